"""What the status app does when a customer message arrives (it subscribes to MessageReceived, for mail,
the contact form, the widget and the portal alike): link the conversation to the open incidents it
matches, and when the incident's first reply has gone out already, send it to this customer at once:
it replaces the auto-reply the mail app holds in the outbox for a few seconds (mail.autoreply), so the
customer gets one message. Security reports were flagged by the inbox in the message's own transaction and are never
linked; a link missed here (a crash between commit and dispatch) is made by the plan's sweep."""

from __future__ import annotations

from happydesk.inbox import events
from happydesk.inbox.models import Message


def incident_link_arrival(event: events.MessageReceived) -> None:
    from happydesk.status.plan import link_arrival
    from happydesk.status.rounds import first_reply_on_arrival

    if event.automated:
        return  # an out-of-office reply is about nothing: it joins no incident

    message = Message.objects.select_related("conversation").get(pk=event.message_id)
    links = link_arrival(conversation=message.conversation, text=message.text)  # each a get_or_create
    if links:
        first_reply_on_arrival(links)
