"""The customer's side: the contact form per mailbox, the portal, and customer SSO by JWT.

Customers never see notes, event lines or other customers' conversations: the portal fetches only
through inbox.access and then checks the conversation is the visitor's. A visitor is one of:
- signed in to the portal (SESSION_KEY holds the customer; VIA_KEY says how: "link" for a one-time
  sign-in link or a confirmed contact-form address, "sso" for a verified JWT): sees all their own
  conversations;
- holding a signed conversation link from our emails (accounts.portal; it expires and is bound to its
  customer): may read and answer that one conversation (GRANTS_KEY keeps the grant in the session);
- nobody: sees nothing of any conversation. Nothing the contact form or widget answers links to one.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from happydesk.accounts.portal import (
    SESSION_KEY,
    LinkExpired,
    confirm_link_check,
    conversation_link_check,
    portal_token_redeem,
    portal_token_usable,
)
from happydesk.accounts.sso import SsoRefused, safe_return_to, sso_enabled, sso_token_redeem
from happydesk.customers.models import Customer
from happydesk.inbox import services
from happydesk.inbox.access import access_conversation_for_customer, conversations_for_customer
from happydesk.inbox.models import Attachment, Conversation, Mailbox, Message
from happydesk.inbox.selectors import customer_thread
from happydesk.portal.forms import ContactForm, TooManyMessages, TooMuchAttached, uploaded_attachments
from happydesk.portal.services import portal_link_send

VIA_KEY = "portal_verified_via"  # how they were shown to be that customer: "link" or "sso"
GRANTS_KEY = "portal_conversation_grants"  # {conversation number: customer id} opened by a signed link
VIA_LABELS = {"link": "portal session", "sso": "SSO (JWT)"}  # the verification a message records


def contact(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    """The contact form. The thanks page never links to the conversation: whoever typed the address
    may not own it, so the way in goes by email (or is the portal, for a signed-in customer)."""
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id, form_enabled=True)
    form = ContactForm(request.POST or None, request.FILES or None, mailbox=mailbox)
    if request.method == "POST" and form.is_valid():
        customer, via = portal_identity(request)
        try:
            conversation = form.submit(
                request,
                channel=Conversation.Channel.FORM,
                signed_in=customer,
                signed_in_via=VIA_LABELS.get(via, ""),
            )
        except TooManyMessages:
            form.add_error(
                None, "You've sent several messages in a short time; please try again in a few minutes."
            )
            return render(request, "portal/contact.html", {"mailbox": mailbox, "form": form}, status=429)
        context = {
            "mailbox": mailbox,
            "verified": conversation is not None and not conversation.unverified,
            "number": conversation.number if conversation is not None else None,
        }
        return render(request, "portal/contact_thanks.html", context)
    return render(request, "portal/contact.html", {"mailbox": mailbox, "form": form})


def _open_signed_link(
    request: HttpRequest, value: str, check: Callable[[str], tuple[str, int] | None]
) -> tuple[Conversation, Customer | None] | HttpResponse:
    """The conversation a signed link from our email points to, with the visitor's own portal identity;
    or the page to show instead: a fresh-link offer when it expired, "another account" when someone
    else is signed in. An unknown or tampered link is a 404."""
    try:
        found = check(value)
    except LinkExpired as exc:
        return _offer_fresh_link(request, exc.token, exc.customer_id, expired=True)
    if found is None:
        raise Http404("No such link")
    token, customer_id = found
    conversation = access_conversation_for_customer(token)
    if conversation.customer_id != customer_id:
        raise Http404("No such link")
    current, _ = portal_identity(request)
    if current is not None and current.pk != customer_id:
        return _other_account(request)
    return conversation, current


def contact_confirm(request: HttpRequest, value: str) -> HttpResponse:
    """The "yes, it was me" link from the confirmation email. A GET only shows the button (a mail
    scanner that follows links confirms nothing); the POST confirms the conversation and signs the
    customer in to the portal."""
    opened = _open_signed_link(request, value, confirm_link_check)
    if isinstance(opened, HttpResponse):
        return opened
    conversation, current = opened
    if request.method != "POST":
        return render(request, "portal/contact_confirm.html", {"c": conversation})
    services.conversation_sender_confirm(conversation=conversation, customer=conversation.customer)
    if current is None:
        portal_sign_in(request, conversation.customer, via="link")
    return redirect("portal_conversation", token=conversation.token)


def portal_sign_in(request: HttpRequest, customer: Customer, *, via: str) -> None:
    """Sign the customer in to the portal (and the community), recording how they were verified."""
    request.session.cycle_key()
    request.session.pop(GRANTS_KEY, None)
    request.session[SESSION_KEY] = customer.pk
    request.session[VIA_KEY] = via


def portal_identity(request: HttpRequest) -> tuple[Customer | None, str]:
    """The customer signed in to the portal in this session and how ("link" or "sso"), or (None, "")."""
    customer = _customer(request)
    return (customer, request.session.get(VIA_KEY, "link")) if customer else (None, "")


def _customer(request: HttpRequest) -> Customer | None:
    customer_id = request.session.get(SESSION_KEY)
    return Customer.objects.filter(pk=customer_id).first() if customer_id else None


def portal(request: HttpRequest) -> HttpResponse:
    customer, via = portal_identity(request)
    if customer is None:
        sent = False
        if request.method == "POST":
            portal_link_send(address=request.POST.get("email", ""))
            sent = True  # the same answer whether or not the address is known
        return render(request, "portal/portal_signin.html", {"sent": sent})
    rows = conversations_for_customer(customer).select_related("mailbox").order_by("-last_activity_at")
    # "New request" opens the contact form of the mailbox they last wrote to (else the first with one);
    # signed in, the form knows them, so the new conversation is verified.
    last = next((c.mailbox for c in rows[:1] if c.mailbox.form_enabled), None)
    mailbox = last or Mailbox.objects.filter(form_enabled=True).order_by("pk").first()
    context = {
        "customer": customer,
        "rows": rows,
        "via": via,
        "new_request_mailbox": mailbox.pk if mailbox else None,
    }
    return render(request, "portal/portal.html", context)


def portal_login(request: HttpRequest, token: str) -> HttpResponse:
    """A one-time sign-in link. GET shows a "Sign in" button and uses nothing up (mail scanners
    follow links); only the POST (with its CSRF token) redeems the link."""
    if request.method != "POST":
        if not portal_token_usable(token=token):
            return render(request, "portal/portal_signin.html", {"expired": True}, status=410)
        return render(request, "portal/portal_login.html")
    customer = portal_token_redeem(token=token)
    if customer is None:
        return render(request, "portal/portal_signin.html", {"expired": True}, status=410)
    portal_sign_in(request, customer, via="link")
    return redirect("portal")


@require_POST
def portal_logout(request: HttpRequest) -> HttpResponse:
    for key in (SESSION_KEY, VIA_KEY, GRANTS_KEY):
        request.session.pop(key, None)
    request.session.cycle_key()
    return redirect("portal")


def sso_jwt(request: HttpRequest) -> HttpResponse:
    """Customer SSO, as Zendesk does it: /sso/jwt?jwt=<token>&return_to=<path>. A refused token
    gets a page saying why, and nobody is signed in."""
    if not sso_enabled():
        raise Http404("Single sign-on is not set up")
    params = request.POST if request.method == "POST" else request.GET
    try:
        return_to = safe_return_to(params.get("return_to", ""))
        customer, _ = sso_token_redeem(params.get("jwt", ""))
    except SsoRefused as exc:
        return render(request, "portal/sso_refused.html", {"reason": exc.message}, status=exc.status)
    portal_sign_in(request, customer, via="sso")
    return redirect(return_to)


def portal_link(request: HttpRequest, value: str) -> HttpResponse:
    """The conversation link from our emails: signed, bound to its customer, expiring. Without a
    session it opens that one conversation; signed in as someone else, it shows nothing (403)."""
    opened = _open_signed_link(request, value, conversation_link_check)
    if isinstance(opened, HttpResponse):
        return opened
    conversation, current = opened
    token, customer_id = conversation.token, conversation.customer_id
    if current is None:
        grants = dict(request.session.get(GRANTS_KEY) or {})
        grants[str(conversation.pk)] = customer_id
        request.session[GRANTS_KEY] = grants
    return redirect("portal_conversation", token=token)


def _other_account(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/portal_other_account.html", status=403)


def _offer_fresh_link(
    request: HttpRequest, token: str, customer_id: int | None, *, expired: bool
) -> HttpResponse:
    """An expired or old link: offer to email a fresh sign-in link to the conversation's customer
    (at the address we have; the page never shows it)."""
    sent = False
    if request.method == "POST" and request.POST.get("action") == "send-link":
        try:
            conversation: Conversation | None = access_conversation_for_customer(token)
        except Http404:
            conversation = None
        if conversation is not None and customer_id in (None, conversation.customer_id):
            portal_link_send(address=conversation.customer.primary_email)
        sent = True  # the same answer either way
    return render(request, "portal/portal_link_expired.html", {"sent": sent, "expired": expired}, status=403)


def _conversation_for_visitor(request: HttpRequest, token: str) -> tuple[Conversation, str | None]:
    """The conversation and how this visitor may see it (a message's verification), or None."""
    conversation = access_conversation_for_customer(token)
    customer, via = portal_identity(request)
    if customer is not None:
        return conversation, (
            VIA_LABELS.get(via, "portal session") if customer.pk == conversation.customer_id else ""
        )
    grants = request.session.get(GRANTS_KEY) or {}
    if grants.get(str(conversation.pk)) == conversation.customer_id:
        return conversation, "conversation link from email"
    return conversation, None


def portal_conversation(request: HttpRequest, token: str) -> HttpResponse:
    conversation, verification = _conversation_for_visitor(request, token)
    if verification == "":
        return _other_account(request)
    if verification is None:
        return _offer_fresh_link(request, token, None, expired=False)
    error = ""
    if request.method == "POST":
        text = request.POST.get("text", "").strip()
        try:
            files = uploaded_attachments(request.FILES.getlist("attachments"))
        except TooMuchAttached as exc:
            error, files = str(exc).capitalize() + ": nothing was sent.", []
        if not error:
            if request.POST.get("action") == "reopen" and conversation.status == Conversation.Status.CLOSED:
                services.conversation_set_status(
                    conversation=conversation, actor=None, status=Conversation.Status.ACTIVE
                )
            if text or files:
                services.customer_reply(
                    conversation=conversation,
                    customer=conversation.customer,
                    text=text,
                    verification=verification,
                    attachments=files,
                )
            return redirect("portal_conversation", token=token)
    thread = customer_thread(conversation)
    from happydesk.feedback.models import Rating, RatingRequest
    from happydesk.feedback.services import rating_links

    rating_request = RatingRequest.objects.filter(conversation=conversation).first()
    context = {
        "c": conversation,
        "thread": thread,
        "signed_in": bool(request.session.get(SESSION_KEY)),
        "rating_links": rating_links(rating_request) if rating_request else [],
        "rating": Rating.objects.filter(conversation=conversation).first(),
        "error": error,
        "draft": request.POST.get("text", "") if error else "",
    }
    return render(request, "portal/portal_conversation.html", context, status=400 if error else 200)


def portal_attachment(request: HttpRequest, token: str, attachment_id: int) -> FileResponse:
    conversation, verification = _conversation_for_visitor(request, token)
    if not verification:
        raise Http404("No such attachment")
    attachment = Attachment.objects.filter(
        pk=attachment_id,
        message__conversation=conversation,
        message__kind__in=Message.PUBLIC_KINDS,
    ).first()
    if attachment is None:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
