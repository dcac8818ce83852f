"""The customer's side: the contact form per mailbox and the portal (one-time link sign-in).

Customers never see notes, event lines or other customers' conversations: the portal fetches only
through inbox.access, and a conversation link works by its unguessable token.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from happydesk.accounts.portal import portal_link_send, portal_token_redeem
from happydesk.customers.models import Customer
from happydesk.inbox import services
from happydesk.inbox.access import access_conversation_for_customer, conversations_for_customer
from happydesk.inbox.models import Attachment, Conversation, Mailbox, Message

SESSION_KEY = "portal_customer_id"


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField()
    topic = forms.ChoiceField(label="What's this about?", required=False)
    subject = forms.CharField(max_length=300)
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 7}), max_length=50_000)
    feeling = forms.ChoiceField(
        label="How are you feeling?",
        choices=[("", "Rather not say"), *Conversation.Feeling.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    attachments = forms.FileField(required=False)
    website = forms.CharField(required=False, label="Leave this empty")  # honeypot for bots
    tz_offset = forms.IntegerField(required=False, widget=forms.HiddenInput)
    tz_name = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, mailbox: Mailbox, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.mailbox = mailbox
        super().__init__(*args, **kwargs)
        topics = [str(t) for t in mailbox.form_topics if str(t).strip()]
        if topics:
            self.fields["topic"].choices = [("", "Choose one…"), *[(t, t) for t in topics]]
        else:
            del self.fields["topic"]

    def submit(self, request: HttpRequest, *, channel: str) -> Conversation | None:
        """Open the conversation from a valid form (the page and the widget alike): rate-limited per
        client IP and per address, a bot's honeypot answer stores nothing (None), and a visit that saw
        suggestions is recorded as not deflected. Raises TooManyMessages over the limit."""
        from happydesk.search.services import suggestion_event

        data = self.cleaned_data
        ip = request.META.get("REMOTE_ADDR", "")
        if _over_limit(f"contact:ip:{ip}") or _over_limit(f"contact:email:{data['email'].lower()}"):
            raise TooManyMessages
        if data["website"]:  # a bot filled the hidden field: pretend all is well, store nothing
            return None
        offset = timedelta(minutes=-data["tz_offset"]) if data.get("tz_offset") is not None else None
        files = [
            services.NewAttachment(f.name, f.content_type or "application/octet-stream", f.read())
            for f in request.FILES.getlist("attachments")
        ]
        conversation = services.conversation_from_form(
            mailbox=self.mailbox,
            name=data["name"],
            email=data["email"],
            subject=data["subject"],
            text=data["message"],
            topic=data.get("topic") or "",
            feeling=data.get("feeling") or "",
            attachments=files,
            customer_offset=offset,
            timezone_name=data.get("tz_name") or "",
            channel=channel,
        )
        if request.POST.get("session"):  # the visit saw suggestions and still wrote: not deflected
            source = "widget" if channel == Conversation.Channel.WIDGET else "form"
            suggestion_event(
                mailbox_id=self.mailbox.pk, key=request.POST["session"], source=source, event="submitted"
            )
        return conversation


CONTACT_LIMIT = 5  # submissions per client IP and per address in CONTACT_WINDOW
CONTACT_WINDOW = timedelta(minutes=10)


class TooManyMessages(Exception):
    """More contact-form submissions from one IP or address than CONTACT_LIMIT in CONTACT_WINDOW."""


def _over_limit(key: str) -> bool:
    """Count one submission for this key; True when over the limit for the window."""
    from django.core.cache import cache

    seconds = int(CONTACT_WINDOW.total_seconds())
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key) > CONTACT_LIMIT
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds)
        return False


def contact(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id, form_enabled=True)
    form = ContactForm(request.POST or None, request.FILES or None, mailbox=mailbox)
    if request.method == "POST" and form.is_valid():
        try:
            conversation = form.submit(request, channel=Conversation.Channel.FORM)
        except TooManyMessages:
            form.add_error(
                None, "You've sent several messages in a short time; please try again in a few minutes."
            )
            return render(request, "web/contact.html", {"mailbox": mailbox, "form": form}, status=429)
        return render(request, "web/contact_thanks.html", {"mailbox": mailbox, "conversation": conversation})
    return render(request, "web/contact.html", {"mailbox": mailbox, "form": form})


def _customer(request: HttpRequest) -> Customer | None:
    customer_id = request.session.get(SESSION_KEY)
    return Customer.objects.filter(pk=customer_id).first() if customer_id else None


def portal(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    if customer is None:
        sent = False
        if request.method == "POST":
            portal_link_send(address=request.POST.get("email", ""))
            sent = True  # the same answer whether or not the address is known
        return render(request, "web/portal_signin.html", {"sent": sent})
    rows = conversations_for_customer(customer).select_related("mailbox").order_by("-last_activity_at")
    return render(request, "web/portal.html", {"customer": customer, "rows": rows})


def portal_login(request: HttpRequest, token: str) -> HttpResponse:
    customer = portal_token_redeem(token=token)
    if customer is None:
        return render(request, "web/portal_signin.html", {"expired": True}, status=410)
    request.session.cycle_key()
    request.session[SESSION_KEY] = customer.pk
    return redirect("portal")


@require_POST
def portal_logout(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    return redirect("portal")


def portal_conversation(request: HttpRequest, token: str) -> HttpResponse:
    conversation = access_conversation_for_customer(token)
    if request.method == "POST":
        text = request.POST.get("text", "").strip()
        if request.POST.get("action") == "reopen" and conversation.status == Conversation.Status.CLOSED:
            services.conversation_set_status(
                conversation=conversation, actor=None, status=Conversation.Status.ACTIVE
            )
        if text:
            services.customer_reply(conversation=conversation, customer=conversation.customer, text=text)
        return redirect("portal_conversation", token=token)
    thread = (
        conversation.messages.filter(
            kind__in=[Message.Kind.CUSTOMER, Message.Kind.REPLY, Message.Kind.AUTO_REPLY]
        )
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    from happydesk.feedback.models import Rating, RatingRequest
    from happydesk.feedback.services import rating_links

    rating_request = RatingRequest.objects.filter(conversation=conversation).first()
    context = {
        "c": conversation,
        "thread": thread,
        "rating_links": rating_links(rating_request) if rating_request else [],
        "rating": Rating.objects.filter(conversation=conversation).first(),
    }
    return render(request, "web/portal_conversation.html", context)


def portal_attachment(request: HttpRequest, token: str, attachment_id: int) -> FileResponse:
    conversation = access_conversation_for_customer(token)
    attachment = Attachment.objects.filter(
        pk=attachment_id,
        message__conversation=conversation,
        message__kind__in=[Message.Kind.CUSTOMER, Message.Kind.REPLY, Message.Kind.AUTO_REPLY],
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
