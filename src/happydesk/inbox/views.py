"""The inbox's agent pages: the list, a conversation and what an agent does on it. Thin views that parse
input, call one service, and render. Features add their parts to the conversation page through its
panels (inbox/panels.py), never through an import here."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from happydesk.accounts.decorators import AgentRequest, team_required
from happydesk.accounts.models import User
from happydesk.accounts.services import agent_take_on_reply_set
from happydesk.customers.services import customer_for_address
from happydesk.inbox import panels, selectors, services
from happydesk.inbox.access import access_conversation_for_agent, conversations_for_agent
from happydesk.inbox.forms import NewConversationForm, NoteForm, ReplyForm, SnoozeForm, StatusForm, TagForm
from happydesk.inbox.models import Attachment, Conversation, Draft, Mailbox, Message, Tag
from happydesk.inbox.placeholders import Unfilled, UnfilledPlaceholders
from happydesk.web.csp import allow_email_frames


def home(request: HttpRequest) -> HttpResponse:
    return redirect("inbox")


STATUS_VIEWS = [("active", "Open"), ("pending", "Pending"), ("closed", "Closed"), ("spam", "Spam")]
INBOX_VIEWS = [
    ("active", "Open"),
    ("pending", "Pending"),
    ("snoozed", "Snoozed"),
    ("closed", "Closed"),
    ("spam", "Spam"),
]


@login_required
def inbox(request: AgentRequest) -> HttpResponse:
    view = None
    if request.GET.get("view", "").isdigit():
        view = selectors.saved_views_for(request.user).filter(pk=int(request.GET["view"])).first()
    params = {**(view.filters if view else {}), **{k: v for k, v in request.GET.items() if v}}
    status = params.get("status", "active")
    if status not in dict(INBOX_VIEWS) and status != "all":
        status = "active"
    q = params.get("q", "").strip()
    mailbox = params.get("mailbox") or None
    waiting = params.get("waiting_over_minutes")
    hits = selectors.search_hits(q) if q else []
    qs = selectors.conversation_list(
        agent=request.user,
        status=None if status == "all" else status,
        q=q or None,
        mailbox=mailbox,
        hits=hits,
        tag=params.get("tag") or None,
        feeling=params.get("feeling") or None,
        waiting_over_minutes=int(str(waiting)) if str(waiting or "").isdigit() else None,
        channel=params.get("channel") or None,
        assigned=params.get("assigned") or None,
    )
    order = request.GET.get("order") or ("triage" if status == "active" and not q else "recent")
    if order == "triage":
        # Stuck customers first (automations/triage.py): the database sorts ids by score over a covering
        # index, then the page's 50 full rows are loaded.
        page = Paginator(selectors.triage_ids(qs), 50).get_page(request.GET.get("page"))
        # The page of ids becomes the page of rows: same length and order, so the paginator's numbers hold.
        page.object_list = selectors.with_priority(selectors.rows_in_order(list(page.object_list)))
    elif hits:
        page = Paginator(selectors.search_ranked(qs, hits), 50).get_page(request.GET.get("page"))
        page.object_list = selectors.rows_in_order(list(page.object_list))  # type: ignore[assignment]  # ids become rows, as above
    else:
        page = Paginator(qs, 50).get_page(request.GET.get("page"))
    snippets = selectors.search_snippets(q, [c.pk for c in page.object_list]) if hits else {}
    context = {
        "panels": panels.installed(),
        "page": page,
        "status": status,
        "q": q,
        "views": INBOX_VIEWS,
        "counts": selectors.status_counts(agent=request.user),
        "badges": selectors.inbox_badges(agent=request.user),
        "agents": selectors.assignable_agents(),
        "mailboxes": Mailbox.objects.order_by("name"),
        "bulk_undo": _bulk_undo_offer(request),
        "mailbox": mailbox,
        "snippets": snippets,
        "saved_views": selectors.saved_views_for(request.user),
        "current_view": view,
        "can_change_view": view is not None and services.saved_view_may_change(view, request.user),
        "feelings": Conversation.Feeling.choices,
        "params": params,
        "channels": Conversation.Channel.choices,
        "order": order,
    }
    template = "inbox/_conversation_rows.html" if request.headers.get("HX-Request") else "inbox/inbox.html"
    return render(request, template, context)


def _conversation_page(
    request: AgentRequest, convo: Conversation, *, status: int = 200, **extra: object
) -> HttpResponse:
    """The conversation page; `extra` carries the composer's state after a refused send."""
    thread = selectors.thread(convo)
    prefetch_related_objects([convo.customer], "emails")  # the header's address and the sidebar's list
    saved_draft = (
        Draft.objects.filter(conversation=convo, agent=request.user).values_list("text", flat=True).first()
    )
    context = {
        "c": convo,
        "thread": thread,
        "seen": max((m.pk for m in thread), default=0),
        "statuses": STATUS_VIEWS,
        "panels": panels.installed(),
        "snooze_options": selectors.snooze_options(),
        "handoff": selectors.handoff_line(convo, request.user, thread),
        "exchanges": selectors.exchanges_without_resolution(convo, thread),
        "all_tags": Tag.objects.order_by("name").values_list("name", flat=True)[:500],
        "agents": selectors.assignable_agents(convo),
        "draft": saved_draft or "",
        # Messages whose remote images the agent asked to load (one per click; see formatted_srcdoc). Only
        # this thread's: another id must not widen this page's policy for nothing it shows.
        "remote_images": {int(pk) for pk in request.GET.getlist("images") if pk.isdigit()}
        & {m.pk for m in thread},
        "possibly_same_as": (
            conversations_for_agent(request.user).filter(pk=convo.possibly_same_as_id).first()
            if convo.possibly_same_as_id and convo.unverified
            else None
        ),
        "undo_merge": next(
            (m for m in reversed(thread) if m.kind == Message.Kind.EVENT and services.merge_undoable(m)), None
        ),
        "undo_send": _undo_offer(request, convo),
        "reply_cc": ", ".join(convo.cc),
        **_customer_context(request, convo),
        **extra,
    }
    response = render(request, "inbox/conversation.html", context, status=status)
    # The email frames inherit the page's Content-Security-Policy; let it hold what they may show.
    return allow_email_frames(response, remote_images=bool(context["remote_images"]))


def _undo_offer(request: AgentRequest, convo: Conversation) -> dict | None:
    """The reply just sent from this page, offered for undo once (the page after the send)."""
    offer = request.session.get("undo_send")
    if not offer or offer.get("number") != convo.number:
        return None
    del request.session["undo_send"]
    return {"message": offer["message"], "seconds": settings.HAPPYDESK_UNDO_SEND_SECONDS}


def _customer_context(request: AgentRequest, convo: Conversation) -> dict:
    """The sidebar. While the sender is not verified, anyone may have typed the customer's address, so the
    real customer's history and attributes stay hidden (and the sidebar's panels are not shown): only the
    claimed address is."""
    if convo.unverified:
        claimed = convo.messages.filter(kind=Message.Kind.CUSTOMER).values_list("from_address", flat=True)
        return {"claimed_addresses": sorted(set(claimed))[:5]}
    return {
        # Through the access check: a light agent must not learn of a security report from the sidebar.
        "other_conversations": conversations_for_agent(request.user)
        .filter(customer=convo.customer)
        .exclude(pk=convo.pk)
        .order_by("-last_activity_at")[:10],
        "addresses": convo.customer.emails.all(),
        "local_time": selectors.customer_local_time(convo.customer),
        "attributes": selectors.customer_attribute_rows(convo.customer.attributes),
    }


@login_required
def conversation(request: AgentRequest, number: int) -> HttpResponse:
    convo = access_conversation_for_agent(request.user, number)
    if convo.merged_into_id:
        return redirect("conversation", number=convo.merged_into_id)
    services.conversation_seen(conversation=convo, agent=request.user)  # read: off the unread count
    return _conversation_page(request, convo)


def _assignee_from(request: AgentRequest, value: str) -> User | None:
    """The agent a form names as owner: "me", an agent's id, or "" for nobody; 404 for no such agent."""
    if value == "me":
        return request.user
    if not value:
        return None
    if not value.isdigit():
        raise Http404
    found = User.objects.filter(pk=int(value)).first()
    if found is None:
        raise Http404
    return found


@login_required
@require_POST
def assign(request: AgentRequest, number: int) -> HttpResponse:
    """Give the conversation to someone, take it, or leave it to anyone ("Unassigned"). Every agent who
    may see a conversation may do this, light agents too: like answering, it is inbox work."""
    convo = access_conversation_for_agent(request.user, number)
    assignee = _assignee_from(request, request.POST.get("assignee", "").strip())
    try:
        services.conversation_assign(conversation=convo, assignee=assignee, actor=request.user)
    except services.AssignmentRefused as exc:
        flash.error(request, str(exc))
        return redirect("conversation", number=convo.number)
    if assignee is None:
        flash.success(request, "Unassigned: anyone can answer.")
    else:
        flash.success(request, f"Assigned to {'you' if assignee.pk == request.user.pk else assignee.name}.")
    return redirect("conversation", number=convo.number)


@login_required
@require_POST
def merge(request: AgentRequest, number: int) -> HttpResponse:
    """Merge this conversation into another: first a page with both side by side, then the merge."""
    source = access_conversation_for_agent(request.user, number)
    into = request.POST.get("into", "").strip().lstrip("#")
    if not into.isdigit():
        flash.error(request, "Give the number of the conversation to merge into.")
        return redirect("conversation", number=number)
    target = access_conversation_for_agent(request.user, int(into))
    if request.POST.get("confirm") != "yes":
        context = {
            "source": source,
            "target": target,
            "same_customer": source.customer_id == target.customer_id,
            "window_minutes": int(services.MERGE_UNDO_WINDOW.total_seconds() // 60),
        }
        return render(request, "inbox/merge_confirm.html", context)
    try:
        services.conversation_merge(source=source, target=target, actor=request.user)
    except ValueError as exc:
        flash.error(request, str(exc))
        return redirect("conversation", number=number)
    flash.success(request, f"Merged #{source.number} into this conversation. You can undo it for a while.")
    return redirect("conversation", number=target.number)


@login_required
@require_POST
def merge_undo(request: AgentRequest, number: int, line_id: int) -> HttpResponse:
    target = access_conversation_for_agent(request.user, number)
    line = target.messages.filter(pk=line_id, kind=Message.Kind.EVENT).first()
    if line is None:
        raise Http404
    try:
        source = services.conversation_merge_undo(target=target, line=line, actor=request.user)
    except ValueError as exc:
        flash.error(request, str(exc).capitalize() + ".")
        return redirect("conversation", number=number)
    flash.success(request, f"Merge undone: #{source.number} is its own conversation again.")
    return redirect("conversation", number=source.number)


@login_required
@require_POST
def split(request: AgentRequest, number: int, message_id: int) -> HttpResponse:
    convo = access_conversation_for_agent(request.user, number)
    message = convo.messages.filter(pk=message_id).first()
    if message is None:
        raise Http404
    try:
        new = services.message_split(message=message, actor=request.user)
    except ValueError as exc:
        flash.error(request, str(exc))
        return redirect("conversation", number=number)
    flash.success(request, f"Split into a new conversation, #{new.number}.")
    return redirect("conversation", number=new.number)


@login_required
@require_POST
def reply(request: AgentRequest, number: int) -> HttpResponse:
    convo = access_conversation_for_agent(request.user, number)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        problems = [str(e) for name in ("cc", "bcc") for e in form.errors.get(name, [])]
        if problems:  # keep what was written: the page comes back with the text and the reason
            flash.error(request, "Not sent: " + " ".join(problems))
            return _conversation_page(request, convo, status=422, draft=request.POST.get("text", ""))
        flash.error(request, "Write something before sending.")
        return redirect("conversation", number=convo.number)
    files = [
        services.NewAttachment(f.name or "attachment", f.content_type or "application/octet-stream", f.read())
        for f in request.FILES.getlist("attachments")
    ]
    then = form.cleaned_data["then"]
    if form.cleaned_data["take_shown"]:  # the composer showed the box: its state is the new default
        agent_take_on_reply_set(agent=request.user, on=form.cleaned_data["take"])
    snooze_until = None
    if then.startswith("snooze:"):
        snooze_until = {key: until for key, _, until in selectors.snooze_options()}[then.split(":", 1)[1]]
    try:
        sent = services.reply_create(
            conversation=convo,
            author=request.user,
            text=form.cleaned_data["text"],
            attachments=files,
            status=None if snooze_until else (then or None),
            snooze_until=snooze_until,
            seen_message_id=form.cleaned_data["seen"],
            take=form.cleaned_data["take"],
            cc=form.cleaned_data["cc"] if "cc" in request.POST else None,
            bcc=form.cleaned_data["bcc"],
        )
    except services.NewActivity as exc:
        # The send guard: show what arrived and let the agent send anyway (the page now counts it as seen).
        return _conversation_page(
            request,
            convo,
            status=409,
            draft=form.cleaned_data["text"],
            new_activity=[m.pk for m in exc.messages],
        )
    except UnfilledPlaceholders as exc:
        # Keep the draft, show exactly what is left to fill; nothing was sent.
        return _conversation_page(
            request,
            convo,
            status=422,
            draft=form.cleaned_data["text"],
            unfilled=exc.found,
            unfilled_preview=highlight_unfilled(form.cleaned_data["text"], exc.found),
        )
    flash.success(
        request, "Reply sent." + (f" Snoozed until {snooze_until:%a %b %-d, %H:%M}." if snooze_until else "")
    )
    if settings.HAPPYDESK_UNDO_SEND_SECONDS > 0:
        # The conversation page shows "Sent — Undo" while the outbox holds the reply (mail.views.reply_undo).
        request.session["undo_send"] = {"number": convo.number, "message": sent.pk}
    if then == "closed" or snooze_until:
        return redirect("inbox")
    return redirect("conversation", number=convo.number)


@login_required
def conversation_new(request: AgentRequest) -> HttpResponse:
    """An agent starts a conversation with a customer (the first message is ours)."""
    form = NewConversationForm(
        request.POST or None, initial={"mailbox": Mailbox.objects.order_by("name").first()}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            convo = services.conversation_start(
                mailbox=data["mailbox"],
                customer=customer_for_address(address=data["to"]),
                subject=data["subject"],
                text=data["text"],
                author=request.user,
                cc=data["cc"],
            )
        except UnfilledPlaceholders as exc:
            form.add_error("text", "Fill in the placeholders first: " + ", ".join(u.text for u in exc.found))
        else:
            flash.success(request, f"Sent: conversation #{convo.number} started.")
            return redirect("conversation", number=convo.number)
    return render(request, "inbox/conversation_new.html", {"form": form})


BULK_STATUSES = {"close": "closed", "pending": "pending", "open": "active", "spam": "spam"}


@login_required
@require_POST
def bulk(request: AgentRequest) -> HttpResponse:
    """One action on many conversations: status, tag, assignee or mailbox. What each looked like before
    is kept in the session, so the inbox can offer to undo it for BULK_UNDO_WINDOW."""
    action = request.POST.get("action", "")
    numbers = [int(n) for n in request.POST.getlist("numbers") if n.isdigit()][:500]
    conversations = [access_conversation_for_agent(request.user, n) for n in numbers]
    before = {c.pk: _bulk_state(c) for c in conversations}
    if action in BULK_STATUSES:
        for c in conversations:
            services.conversation_set_status(conversation=c, actor=request.user, status=BULK_STATUSES[action])
    elif action == "tag" and request.POST.get("tag", "").strip():
        for c in conversations:
            services.conversation_tag(conversation=c, names=request.POST["tag"].split(","))
    elif action in ("assign", "assign_me", "unassign"):
        assignee = {"assign_me": request.user, "unassign": None}.get(action) or _assignee_from(
            request, request.POST.get("assignee", "").strip()
        )
        refused = []
        for c in conversations:
            try:
                services.conversation_assign(conversation=c, assignee=assignee, actor=request.user)
            except services.AssignmentRefused:
                refused.append(f"#{c.number}")
        if refused:
            flash.error(
                request,
                f"Not assigned ({assignee.name if assignee else 'nobody'} cannot own them): {', '.join(refused)}.",
            )
    elif action == "move":
        target = Mailbox.objects.filter(pk=request.POST.get("mailbox") or 0).first()
        if target is None:
            raise Http404
        for c in conversations:
            services.conversation_move(conversation=c, mailbox=target, actor=request.user)
    else:
        flash.error(request, "Choose an action.")
        return redirect(request.POST.get("next") or "inbox")
    items = []
    for c in conversations:
        c.refresh_from_db(fields=["status", "assignee", "mailbox"])
        after = _bulk_state(c)
        if after != before[c.pk]:
            items.append({"id": c.pk, "before": before[c.pk], "after": after})
    request.session[BULK_UNDO_KEY] = {"at": timezone.now().isoformat(), "items": items} if items else None
    flash.success(
        request, f"Done for {len(conversations)} conversation{'s' if len(conversations) != 1 else ''}."
    )
    return redirect(request.POST.get("next") or "inbox")


BULK_UNDO_KEY, BULK_UNDO_WINDOW = "inbox_bulk_undo", timedelta(minutes=10)


def _bulk_state(c: Conversation) -> dict:
    """What a bulk action may change on a conversation, as JSON for the session."""
    return {
        "status": c.status,
        "assignee": c.assignee_id,
        "mailbox": c.mailbox_id,
        "tags": sorted(c.tags.values_list("name", flat=True)),
    }


def _bulk_undo_offer(request: AgentRequest) -> dict | None:
    """The last bulk action, while it can still be undone: {"count": n}."""
    offer = request.session.get(BULK_UNDO_KEY)
    if not offer or timezone.now() - datetime.fromisoformat(offer["at"]) > BULK_UNDO_WINDOW:
        return None
    return {"count": len(offer["items"])}


@login_required
@require_POST
def bulk_undo(request: AgentRequest) -> HttpResponse:
    """Put back what the last bulk action changed, on each conversation where nobody has changed that
    part again since (a conversation someone reopened meanwhile stays open)."""
    offer = request.session.pop(BULK_UNDO_KEY, None)
    if not offer or timezone.now() - datetime.fromisoformat(offer["at"]) > BULK_UNDO_WINDOW:
        flash.error(request, "That can no longer be undone.")
        return redirect(request.POST.get("next") or "inbox")
    restored = 0
    for item in offer["items"]:
        c = conversations_for_agent(request.user).filter(pk=item["id"]).first()
        if c is None:
            continue
        now, was, made = _bulk_state(c), item["before"], item["after"]
        if now["status"] == made["status"] != was["status"]:
            services.conversation_set_status(conversation=c, actor=request.user, status=was["status"])
        if now["assignee"] == made["assignee"] != was["assignee"]:
            assignee = (
                User.objects.filter(pk=was["assignee"], is_active=True).first() if was["assignee"] else None
            )
            services.conversation_assign(conversation=c, assignee=assignee, actor=request.user)
        if now["mailbox"] == made["mailbox"] != was["mailbox"]:
            mailbox = Mailbox.objects.filter(pk=was["mailbox"]).first()
            if mailbox is not None:
                services.conversation_move(conversation=c, mailbox=mailbox, actor=request.user)
        for name in set(made["tags"]) - set(was["tags"]):
            if name in now["tags"]:
                services.conversation_untag(conversation=c, name=name)
        restored += 1
    flash.success(request, f"Undone for {restored} conversation{'s' if restored != 1 else ''}.")
    return redirect(request.POST.get("next") or "inbox")


@login_required
@require_POST
def view_save(request: AgentRequest) -> HttpResponse:
    """Save the current filters as a named view (personal, or shared with the team)."""
    name = request.POST.get("name", "").strip()
    if not name:
        flash.error(request, "Give the view a name.")
        return redirect("inbox")
    filters = {k: request.POST.get(k, "") for k in selectors.VIEW_FILTERS}
    owner = None if request.POST.get("shared") else request.user
    try:
        view = services.saved_view_save(name=name, owner=owner, filters=filters)
    except ValueError as exc:
        flash.error(request, str(exc).capitalize() + ": choose another name.")
        return redirect("inbox")
    return redirect(f"{reverse('inbox')}?view={view.pk}")


@login_required
@require_POST
def view_change(request: AgentRequest, view_id: int) -> HttpResponse:
    """Rename or delete a saved view (an agent's own; the team's for full agents). Views the agent
    cannot see are 404, ones they see but may not change 403."""
    view = selectors.saved_views_for(request.user).filter(pk=view_id).first()
    if view is None:
        raise Http404
    if not services.saved_view_may_change(view, request.user):
        return HttpResponse("Only its owner, or a full agent for a team view, may change it.", status=403)
    if request.POST.get("action") == "delete":
        services.saved_view_delete(view=view, by=request.user)
        flash.success(request, f"View “{view.name}” deleted.")
        return redirect("inbox")
    try:
        services.saved_view_rename(view=view, name=request.POST.get("name", ""), by=request.user)
    except ValueError as exc:
        flash.error(request, str(exc).capitalize() + ".")
    return redirect(f"{reverse('inbox')}?view={view.pk}")


@login_required
@require_POST
def draft(request: AgentRequest, number: int) -> HttpResponse:
    """Autosave of the composer (called as the agent types)."""
    convo = access_conversation_for_agent(request.user, number)
    services.draft_save(conversation=convo, agent=request.user, text=request.POST.get("text", ""))
    return HttpResponse(status=204)


@login_required
@require_POST
def tag_add(request: AgentRequest, number: int) -> HttpResponse:
    convo = access_conversation_for_agent(request.user, number)
    form = TagForm(request.POST)
    if form.is_valid():
        services.conversation_tag(conversation=convo, names=form.cleaned_data["name"].split(","))
    return redirect("conversation", number=convo.number)


@login_required
@require_POST
def tag_remove(request: AgentRequest, number: int, name: str) -> HttpResponse:
    convo = access_conversation_for_agent(request.user, number)
    services.conversation_untag(conversation=convo, name=name)
    return redirect("conversation", number=convo.number)


@login_required
@require_POST
def snooze(request: AgentRequest, number: int) -> HttpResponse:
    convo = access_conversation_for_agent(request.user, number)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        return redirect("conversation", number=convo.number)
    if form.cleaned_data["until"] == "wake":
        services.conversation_snooze(conversation=convo, actor=request.user, until=None)
        return redirect("conversation", number=convo.number)
    until = {key: value for key, _, value in selectors.snooze_options()}[form.cleaned_data["until"]]
    services.conversation_snooze(conversation=convo, actor=request.user, until=until)
    flash.success(request, f"Snoozed #{convo.number} until {until:%a %b %-d, %H:%M}.")
    return redirect("inbox")


@login_required
@require_POST
def note(request: AgentRequest, number: int) -> HttpResponse:
    convo = access_conversation_for_agent(request.user, number)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.note_add(conversation=convo, author=request.user, text=form.cleaned_data["text"])
    return redirect("conversation", number=convo.number)


@login_required
@require_POST
def status(request: AgentRequest, number: int) -> HttpResponse:
    convo = access_conversation_for_agent(request.user, number)
    form = StatusForm(request.POST)
    if form.is_valid():
        services.conversation_set_status(
            conversation=convo, actor=request.user, status=form.cleaned_data["status"]
        )
    return redirect("conversation", number=convo.number)


def highlight_unfilled(text: str, found: list[Unfilled]) -> str:
    """The text, escaped, with each unfilled placeholder wrapped in <mark>."""
    out, pos = [], 0
    for item in found:
        out += [escape(text[pos : item.start]), "<mark>", escape(item.text), "</mark>"]
        pos = item.end
    out.append(escape(text[pos:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece of user text above is escaped


@login_required
def attachment(request: AgentRequest, number: int, attachment_id: int) -> FileResponse:
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


@team_required
def customer_edit(request: AgentRequest, number: int) -> HttpResponse:
    """Correct the conversation's customer: name, company, attributes, addresses. Not while the sender
    is unverified (the customer may not be who wrote), and not for light agents."""
    from happydesk.customers.services import (
        CustomerChangeRefused,
        attributes_parse,
        customer_address_remove,
        customer_update,
    )

    convo = access_conversation_for_agent(request.user, number)
    if convo.unverified:
        raise Http404
    customer = convo.customer
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("remove"):
                customer_address_remove(customer=customer, address=request.POST["remove"])
            else:
                customer_update(
                    customer=customer,
                    name=request.POST.get("name", ""),
                    company=request.POST.get("company", ""),
                    attributes=attributes_parse(request.POST.get("attributes", "")),
                    add_address=request.POST.get("add_address", ""),
                )
                flash.success(request, "Customer details saved.")
                return redirect("conversation", number=number)
        except CustomerChangeRefused as exc:
            error = str(exc).capitalize() + "."
        else:
            return redirect("customer_edit", number=number)
    attributes = "\n".join(
        f"{k}: {'yes' if v is True else 'no' if v is False else v}"
        for k, v in sorted(customer.attributes.items())
    )
    context = {"c": convo, "customer": customer, "addresses": customer.emails.all(), "attributes": attributes}
    return render(
        request, "inbox/customer_edit.html", {**context, "error": error}, status=400 if error else 200
    )
