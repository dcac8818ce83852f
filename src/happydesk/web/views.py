"""Agent pages: thin views that parse input, call one service, and render."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from happydesk.inbox import selectors, services
from happydesk.inbox.access import access_conversation_for_agent
from happydesk.inbox.models import Attachment, Conversation, Mailbox
from happydesk.mail import inbound
from happydesk.mail.models import RawMessage
from happydesk.web.forms import LoginForm, NoteForm, ReplyForm, StatusForm


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def home(request: HttpRequest) -> HttpResponse:
    return redirect("inbox")


STATUS_VIEWS = [("active", "Open"), ("pending", "Pending"), ("closed", "Closed"), ("spam", "Spam")]


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "active")
    if status not in dict(STATUS_VIEWS) and status != "all":
        status = "active"
    q = request.GET.get("q", "").strip()
    mailbox = request.GET.get("mailbox") or None
    qs = selectors.conversation_list(
        agent=request.user, status=None if status == "all" else status, q=q or None, mailbox=mailbox
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "q": q,
        "views": STATUS_VIEWS,
        "counts": selectors.status_counts(agent=request.user),
        "mailboxes": Mailbox.objects.order_by("name"),
        "mailbox": mailbox,
    }
    template = "web/_conversation_rows.html" if request.headers.get("HX-Request") else "web/inbox.html"
    return render(request, template, context)


@login_required
def conversation(request: HttpRequest, number: int) -> HttpResponse:
    convo = access_conversation_for_agent(request.user, number)
    return render(
        request,
        "web/conversation.html",
        {
            "c": convo,
            "thread": selectors.thread(convo),
            "reply_form": ReplyForm(),
            "note_form": NoteForm(),
            "statuses": STATUS_VIEWS,
            "other_conversations": convo.customer.conversations.exclude(pk=convo.pk).order_by(
                "-last_activity_at"
            )[:10],
            "addresses": convo.customer.emails.all(),
        },
    )


@login_required
@require_POST
def reply(request: HttpRequest, number: int) -> HttpResponse:
    convo = access_conversation_for_agent(request.user, number)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        flash.error(request, "Write something before sending.")
        return redirect("conversation", number=convo.number)
    files = [
        services.NewAttachment(f.name, f.content_type or "application/octet-stream", f.read())
        for f in request.FILES.getlist("attachments")
    ]
    services.reply_create(
        conversation=convo,
        author=request.user,
        text=form.cleaned_data["text"],
        attachments=files,
        status=form.cleaned_data["then"] or None,
    )
    flash.success(request, "Reply sent.")
    if form.cleaned_data["then"] == "closed":
        return redirect("inbox")
    return redirect("conversation", number=convo.number)


@login_required
@require_POST
def note(request: HttpRequest, number: int) -> HttpResponse:
    convo = access_conversation_for_agent(request.user, number)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.note_add(conversation=convo, author=request.user, text=form.cleaned_data["text"])
    return redirect("conversation", number=convo.number)


@login_required
@require_POST
def status(request: HttpRequest, number: int) -> HttpResponse:
    convo = access_conversation_for_agent(request.user, number)
    form = StatusForm(request.POST)
    if form.is_valid():
        services.conversation_set_status(
            conversation=convo, actor=request.user, status=form.cleaned_data["status"]
        )
    return redirect("conversation", number=convo.number)


@login_required
def attachment(request: HttpRequest, number: int, attachment_id: int) -> FileResponse:
    convo = access_conversation_for_agent(request.user, number)
    row = Attachment.objects.filter(pk=attachment_id, message__conversation=convo).first()
    if row is None:
        raise Http404
    inline_types = {"image/png", "image/jpeg", "image/gif", "image/webp"}
    response = FileResponse(
        row.file.open("rb"),
        as_attachment=row.content_type not in inline_types,
        filename=row.filename,
        content_type=row.content_type if row.content_type in inline_types else "application/octet-stream",
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def quarantine(request: HttpRequest) -> HttpResponse:
    if not request.user.is_admin:
        return HttpResponseForbidden("Admins only")
    rows = RawMessage.objects.filter(state=RawMessage.State.QUARANTINED).order_by("-id")[:200]
    return render(request, "web/quarantine.html", {"rows": rows})


@login_required
@require_POST
def quarantine_reprocess(request: HttpRequest, raw_id: int) -> HttpResponse:
    if not request.user.is_admin:
        return HttpResponseForbidden("Admins only")
    raw = RawMessage.objects.filter(pk=raw_id, state=RawMessage.State.QUARANTINED).first()
    if raw is not None:
        inbound.raw_reprocess(raw=raw)
        inbound.process_raw(raw.pk)
        raw.refresh_from_db()
        flash.info(request, f"Message {raw.pk}: {raw.get_state_display()}. {raw.reason}")
    return redirect("quarantine")


def conversation_status_label(c: Conversation) -> str:
    return c.get_status_display()
