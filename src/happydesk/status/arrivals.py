"""What the status app does when a customer message arrives (one call from inbox.services.message_receive,
inside its transaction, for mail, the contact form, the widget and the portal alike): flag security
reports before anyone can list them, and link the conversation to open incidents it matches."""

from __future__ import annotations

from happydesk.inbox.models import Conversation, Message


def message_arrived(*, conversation: Conversation, message: Message) -> None:
    """Security check first (a flagged conversation is never linked to an incident), then linking."""
    from happydesk.status.plan import link_arrival
    from happydesk.status.security import security_check

    security_check(
        conversation=conversation, subject=message.subject or conversation.subject, text=message.text
    )
    link_arrival(conversation=conversation, text=message.text)
