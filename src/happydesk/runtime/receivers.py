"""Every receiver of the core's events, in one table (ADR 0005). The core (inbox, mail) announces what
happened (`happydesk.inbox.events`); after the commit each event goes to the receivers listed here, in
this order. Nothing else subscribes: to find who reacts to an event, read this file.

tests/runtime/test_receivers.py pins this table, so a new receiver is a deliberate, reviewed change.
"""

from __future__ import annotations

import logging

from happydesk.feedback.services import rating_footer_for_reply
from happydesk.inbox import events
from happydesk.inbox.live import notify, push
from happydesk.mail.notices import assignment_notify, mentions_notify
from happydesk.mail.outbound import reply_enqueue
from happydesk.replies.services import saved_replies_mark_sent
from happydesk.status.arrivals import incident_link_arrival
from happydesk.status.security import security_escalate

log = logging.getLogger(__name__)


def reply_to_outbox(event: events.ReplyCreated) -> None:
    """Ratings add their question to the outgoing mail: asked first, then the reply is queued with it.
    A rating that fails costs the question, never the reply."""
    footer = None
    try:
        footer = rating_footer_for_reply(message_id=event.message_id, closing=event.closing)
    except Exception:
        log.exception("rating question for reply %s failed; the reply goes without it", event.message_id)
    reply_enqueue(message_id=event.message_id, footer=footer)


def saved_reply_uses(event: events.ReplyCreated) -> None:
    """A saved reply counts as used once the reply carrying it is sent."""
    saved_replies_mark_sent(
        message_id=event.message_id, conversation_id=event.conversation_id, author_id=event.author_id
    )


RECEIVERS: events.Table = {
    events.MessageReceived: (incident_link_arrival, push, notify),
    events.ReplyCreated: (reply_to_outbox, saved_reply_uses, push),
    events.NoteAdded: (mentions_notify, push, notify),
    events.StatusChanged: (push,),
    events.AssigneeChanged: (assignment_notify, push, notify),
    events.TagsChanged: (push,),
    events.ConversationsMerged: (push,),
    events.MessageSplit: (push,),
    events.SecurityFlagged: (security_escalate,),
}
