"""The customer's side: new requests from the contact form and the widget, and the portal's sign-in
links. It sits above the core: it opens conversations through the inbox and mails through the mail app.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from happydesk.accounts.portal import confirm_link_value, portal_token_issue
from happydesk.customers.models import Customer, CustomerEmail
from happydesk.customers.services import customer_for_address
from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.inbox.services import (
    FORM_UNCONFIRMED,
    FORM_UNVERIFIED_REASON,
    NewAttachment,
    conversation_open,
    customer_fill_in,
    message_receive,
)
from happydesk.mail import autoreply, outbound
from happydesk.mail.store import split_plus


@transaction.atomic
def conversation_from_form(
    *,
    mailbox: Mailbox,
    name: str,
    email: str,
    subject: str,
    text: str,
    topic: str = "",
    feeling: str = "",
    attachments: Iterable[NewAttachment] = (),
    customer_offset: timedelta | None = None,
    timezone_name: str = "",
    channel: str = Conversation.Channel.FORM,
    signed_in: Customer | None = None,
    signed_in_via: str = "",
) -> Conversation:
    """A conversation from the web contact form (or the widget): what it's about and how the customer
    feels are kept on it for triage. Anyone can type any address, so it is verified only when the
    visitor is signed in (`signed_in`, by portal session or SSO: `signed_in_via`) as the customer who
    owns that address; then the usual auto-reply goes. Otherwise it stays unverified and a
    confirmation with a "yes, it was me" link goes to the address instead (conversation_sender_confirm).
    An unverified visitor's name never fills in an existing customer's (the confirmation does): a
    stranger's typing must not rename the real customer."""
    known = CustomerEmail.objects.filter(address=email.strip().lower()).exists()
    customer = customer_for_address(address=email)
    verified = signed_in is not None and signed_in.pk == customer.pk
    # A stranger may name a customer they create, never rename one who exists (the confirmation fills
    # that in); a missing time zone is only a hint for "local time".
    customer_fill_in(customer, name=name if verified or not known else "", timezone_name=timezone_name)
    conversation = conversation_open(
        mailbox=mailbox,
        customer=customer,
        subject=subject or "(no subject)",
        channel=channel,
        unverified_reason="" if verified else FORM_UNVERIFIED_REASON,
    )
    conversation.topic, conversation.feeling = topic[:200], feeling
    conversation.save(update_fields=["topic", "feeling"])
    message = message_receive(
        conversation=conversation,
        customer=customer,
        from_name=name,
        from_address=email.strip().lower(),
        subject=subject,
        text=text,
        threading_rule="form",
        threading_reason="submitted through the contact form",
        attachments=attachments,
        sender_verified=verified,
        verification=(signed_in_via or "signed in") if verified else FORM_UNCONFIRMED,
    )
    own = set(Mailbox.objects.values_list("address", flat=True))
    if not verified:
        if split_plus(message.from_address)[0] not in own:  # never mail ourselves (loops)
            _form_confirmation_enqueue(
                conversation=conversation, message=message, customer_offset=customer_offset
            )
        return conversation
    # The same loop and rate rules as for mail: one auto-reply per sender per window, never to ourselves.
    if autoreply.skip_reason(mailbox=mailbox, sender=message.from_address, own_addresses=own) is None:
        autoreply.send(conversation=conversation, message=message, customer_offset=customer_offset)
    return conversation


def _form_confirmation_enqueue(
    *, conversation: Conversation, message: Message, customer_offset: timedelta | None
) -> None:
    """The email to the typed address of an unverified form message: a "yes, it was me" link (a button
    page, so a scanner's GET confirms nothing), the usual expectations, and the conversation link.
    Nothing the visitor typed goes in it, not even their name: it reaches an address they may not own,
    and our mail must not carry a stranger's words (or links) to it. The portal link shows the message."""
    mailbox = conversation.mailbox
    confirm = settings.BASE_URL + reverse(
        "contact_confirm",
        args=[confirm_link_value(token=conversation.token, customer_id=conversation.customer_id)],
    )
    lines = [
        "Hello,",
        "",
        f"Someone just wrote to {mailbox.name} through our contact form and gave this email address.",
        "",
        "If it was you, please confirm it (one click on the page this opens):",
        "",
        confirm,
        "",
        "Until you confirm, we treat the message as coming from an unverified sender and won't share "
        "anything about your account in our answer.",
        "If it wasn't you, ignore this email: nothing is shared with whoever sent it.",
    ]
    if mailbox.auto_reply_enabled:
        text = autoreply.compose_text(
            mailbox=mailbox,
            conversation=conversation,
            customer_offset=customer_offset,
            greeting=False,
            text=message.text,
        )
        lines += ["", text]
    lines += ["", f"Follow the conversation: {outbound.conversation_link(conversation)}", ""]
    outbound.notice_enqueue(
        to=[message.from_address],
        subject=f"Please confirm your message to {mailbox.name}"[:200],
        text="\n".join(lines),
        kind="contact-confirm",
        mailbox=mailbox,
        headers={"Reply-To": mailbox.reply_address(conversation.reply_token)},
    )


@transaction.atomic  # the token and its mail together: a failed queueing costs no link of the window
def portal_link_send(*, address: str) -> bool:
    """Mail a one-time sign-in link if the address belongs to a customer (at most a few per window:
    accounts.portal.portal_token_issue). The caller shows the same answer either way, so the form does
    not reveal who is a customer. Sent through the outbox, with its retries."""
    issued = portal_token_issue(address=address)
    if issued is None:
        return False
    to, token = issued
    link = settings.BASE_URL + reverse("portal_login", args=[token])
    body = (
        # A generic greeting: whoever asked for the link may have chosen the name we hold for it.
        "Hi there,\n\nHere is your link to sign in to the support portal:\n\n"
        f"{link}\n\nIt works once, for the next 30 minutes. If you didn't ask for it, ignore this email.\n"
    )
    outbound.notice_enqueue(to=[to], subject="Your sign-in link", text=body, kind="portal-link")
    return True
