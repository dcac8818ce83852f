"""The team's community tools: the moderation queue, hide/lock/ban, merge, move a post to a private
conversation, status changes, links between conversations and ideas, announcements, edit history.

All need signing in. Light agents may link conversations to ideas (they do that work) but not moderate.
Conversations are fetched only through inbox.access.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from happydesk.accounts.decorators import AgentRequest, team_required
from happydesk.accounts.models import User
from happydesk.community import selectors, services
from happydesk.community.forms import AnnouncementForm, MoveForm, StatusForm
from happydesk.community.models import Announcement, Post, Topic
from happydesk.community.services import CommunityError
from happydesk.inbox.access import access_conversation_for_agent
from happydesk.inbox.placeholders import UnfilledPlaceholders

View = Callable[..., HttpResponse]


def _topic(topic_id: int) -> Topic:
    topic = Topic.objects.select_related("author_customer", "merged_into").filter(pk=topic_id).first()
    if topic is None:
        raise Http404("No such topic")
    return topic


def _post(topic: Topic, post_id: int) -> Post:
    post = selectors.post_for_topic(topic, post_id)
    if post is None:
        raise Http404("No such post")
    return post


def _back(request: HttpRequest, topic: Topic) -> HttpResponse:
    target = request.POST.get("next", "")
    if target == "queue":
        return redirect("community_manage")
    return redirect(topic.get_absolute_url())


def _run(request: HttpRequest, call: Callable[[], object], done: str) -> bool:
    try:
        call()
    except (CommunityError, ValueError) as exc:
        flash.error(request, str(exc))
        return False
    if done:
        flash.success(request, done)
    return True


@team_required
def manage(request: AgentRequest) -> HttpResponse:
    """The moderation queue: held posts with why they were held, recent hidden ones, bans, the log."""
    held_topics, held_posts = selectors.held_topics(), selectors.held_posts()
    return render(
        request,
        "community/manage/queue.html",
        {
            "held_topics": held_topics,
            "held_posts": held_posts,
            "held_count": len(held_topics) + len(held_posts),
            "hidden": selectors.hidden_recently(),
            "bans": selectors.bans(),
            "log": selectors.moderation_log(),
        },
    )


@require_POST
@team_required
def topic_moderate(request: AgentRequest, topic_id: int) -> HttpResponse:
    """Hide, show (approve), lock or unlock a topic, or ban its author; with post=<id>, act on that post."""
    topic = _topic(topic_id)
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "").strip()
    agent: User = request.user
    post = _post(topic, int(request.POST["post"])) if request.POST.get("post", "").isdigit() else None
    if action == "hide" and post is not None:
        _run(
            request,
            lambda: services.post_hide(post=post, agent=agent, reason=reason),
            "Hidden from the public.",
        )
    elif action == "hide":
        _run(
            request,
            lambda: services.topic_hide(topic=topic, agent=agent, reason=reason),
            "Hidden from the public.",
        )
    elif action == "show" and post is not None:
        _run(request, lambda: services.post_show(post=post, agent=agent), "Visible to everyone.")
    elif action == "show":
        _run(request, lambda: services.topic_show(topic=topic, agent=agent), "Visible to everyone.")
    elif action in ("lock", "unlock"):
        locked = action == "lock"
        _run(
            request,
            lambda: services.topic_lock(topic=topic, agent=agent, locked=locked),
            f"{action.title()}ed.",
        )
    elif action == "ban":
        author = (post or topic).author_customer
        if author is None:
            flash.error(request, "Only customers can be banned.")
        else:
            _run(
                request,
                lambda: services.customer_ban(customer=author, reason=reason, agent=agent),
                "Banned: they can no longer post or vote.",
            )
    else:
        return HttpResponse("Unknown action.", status=400)
    return _back(request, topic)


@require_POST
@team_required
def ban_lift(request: AgentRequest, customer_id: int) -> HttpResponse:
    ban = selectors.ban_by_customer_id(customer_id)
    if ban is None:
        raise Http404("No such ban")
    services.ban_lift(customer=ban.customer, agent=request.user)
    flash.success(request, "Ban lifted.")
    return redirect("community_manage")


@require_POST
@team_required
def merge(request: AgentRequest, topic_id: int) -> HttpResponse:
    source = _topic(topic_id)
    into = request.POST.get("into", "").strip().lstrip("#")
    if not into.isdigit():
        flash.error(request, "Give the number of the topic to merge into.")
        return redirect(source.get_absolute_url())
    target = _topic(int(into))
    try:
        services.topic_merge(source=source, target=target, agent=request.user)
    except CommunityError as exc:
        flash.error(request, str(exc))
        return redirect(source.get_absolute_url())
    flash.success(request, f"Merged “{source.title}” into this one; votes and followers came along.")
    return redirect(target.get_absolute_url())


@team_required
def move(request: AgentRequest, topic_id: int) -> HttpResponse:
    """Turn a customer's topic (or answer, with post=<id>) into a private conversation."""
    topic = _topic(topic_id)
    post_id = request.POST.get("post") or request.GET.get("post") or ""
    post = _post(topic, int(post_id)) if str(post_id).isdigit() else None
    author = (post or topic).author_customer
    if author is None:
        raise Http404("Only customers' posts can move")
    form = MoveForm(
        request.POST or None,
        initial={"text": services.move_default_text(author, request.user), "post": post.pk if post else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            conversation = services.post_to_conversation(
                topic=topic,
                post=post,
                mailbox=form.cleaned_data["mailbox"],
                agent=request.user,
                text=form.cleaned_data["text"],
            )
        except UnfilledPlaceholders as exc:
            form.add_error("text", f"Fill in the placeholders first: {exc}")
        except CommunityError as exc:
            form.add_error(None, str(exc))
        else:
            flash.success(request, "Moved to a private conversation; the author has been told by email.")
            return redirect("conversation", conversation.pk)
    return render(
        request, "community/manage/move.html", {"topic": topic, "post": post, "author": author, "form": form}
    )


@require_POST
@team_required
def status(request: AgentRequest, topic_id: int) -> HttpResponse:
    topic = _topic(topic_id)
    form = StatusForm(request.POST, topic=topic)
    if not form.is_valid():
        flash.error(request, "Choose a status.")
        return redirect(topic.get_absolute_url())
    try:
        change = services.topic_set_status(
            topic=topic,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
            agent=request.user,
        )
    except CommunityError as exc:
        flash.error(request, str(exc))
    else:
        told = (
            f" {change.notified} {'person was' if change.notified == 1 else 'people were'} told by email."
            if change.notified
            else ""
        )
        flash.success(request, f"Status: {change.get_to_status_display()}.{told}")
    return redirect(topic.get_absolute_url())


@require_POST
@login_required
def link_from_topic(request: AgentRequest, topic_id: int) -> HttpResponse:
    """Link a conversation (by its number) to an idea or known issue, from the idea's page."""
    topic = _topic(topic_id)
    number = request.POST.get("number", "").strip().lstrip("#")
    if not number.isdigit():
        flash.error(request, "Give the conversation's number.")
        return redirect(topic.get_absolute_url())
    conversation = access_conversation_for_agent(request.user, int(number))
    _run(
        request,
        lambda: services.conversation_link(topic=topic, conversation=conversation, agent=request.user),
        f"Linked conversation #{conversation.pk}.",
    )
    return redirect(topic.get_absolute_url())


@require_POST
@login_required
def link_from_conversation(request: AgentRequest, number: int) -> HttpResponse:
    """The "Link to idea" form in the conversation's sidebar."""
    conversation = access_conversation_for_agent(request.user, number)
    raw = request.POST.get("topic", "").strip().lstrip("#").split(" ", 1)[0]
    topic = Topic.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    if topic is None:
        flash.error(request, "Choose an idea from the list.")
    else:
        _run(
            request,
            lambda: services.conversation_link(topic=topic, conversation=conversation, agent=request.user),
            f"Linked to “{topic.title}”.",
        )
    return redirect("conversation", conversation.pk)


@require_POST
@login_required
def unlink(request: AgentRequest, number: int, topic_id: int) -> HttpResponse:
    conversation = access_conversation_for_agent(request.user, number)
    topic = _topic(topic_id)
    services.conversation_unlink(topic=topic, conversation=conversation)
    if request.POST.get("next") == "topic":
        return redirect(topic.get_absolute_url())
    return redirect("conversation", conversation.pk)


@team_required
def history(request: AgentRequest, topic_id: int) -> HttpResponse:
    """Every revision of the topic and its posts, so an agent sees what was changed and by whom."""
    topic = _topic(topic_id)
    groups: dict[int | None, list] = {}
    for r in selectors.revisions(topic):
        groups.setdefault(r.post_id, []).append(r)
    return render(request, "community/manage/history.html", {"topic": topic, "groups": list(groups.items())})


# --- announcements ---------------------------------------------------------------------------------


@team_required
def announcement_list(request: AgentRequest) -> HttpResponse:
    return render(request, "community/manage/announcements.html", {"rows": selectors.all_announcements()})


@team_required
def announcement_edit(request: AgentRequest, announcement_id: int | None = None) -> HttpResponse:
    row = None
    if announcement_id is not None:
        row = Announcement.objects.filter(pk=announcement_id).first()
        if row is None:
            raise Http404("No such announcement")
    initial = {"title": row.title, "body": row.body, "published_at": row.published_at} if row else {}
    form = AnnouncementForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.announcement_save(
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                published_at=form.cleaned_data["published_at"],
                author=request.user,
                announcement=row,
            )
        except CommunityError as exc:
            form.add_error(None, str(exc))
        else:
            flash.success(request, "Saved." if saved.is_live else "Saved; not public yet.")
            return redirect(reverse("community_manage_announcement", args=[saved.pk]))
    return render(request, "community/manage/announcement_form.html", {"row": row, "form": form})


@require_POST
@team_required
def announcement_delete(request: AgentRequest, announcement_id: int) -> HttpResponse:
    row = Announcement.objects.filter(pk=announcement_id).first()
    if row is None:
        raise Http404("No such announcement")
    services.announcement_delete(announcement=row)
    flash.success(request, "Deleted.")
    return redirect("community_manage_announcements")
