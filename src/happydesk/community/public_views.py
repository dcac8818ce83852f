"""The public community under /community/: questions, ideas, known issues, announcements, search.

Anyone reads. To post, vote or follow, a customer signs in with the portal's one-time email link (the
session holds the customer); signed-in agents act as the team. Thin views: parse, call one service, render.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from happydesk.accounts.models import User
from happydesk.accounts.portal import SESSION_KEY
from happydesk.community import selectors, services
from happydesk.community.forms import PostForm, SignInForm, StatusForm, TopicForm
from happydesk.community.models import IDEA_STATUSES, Post, State, Topic
from happydesk.community.services import CommunityError
from happydesk.customers.models import Customer
from happydesk.ratelimit import client_ip
from happydesk.redirects import local_path
from happydesk.web.markdown import description

NEXT_KEY = "community_next"  # where a customer who signed in from the community wants to go back to
NAME_KEY = "community_name"  # the name typed at sign-in, used only once that browser has signed in
PAGE = 30


@dataclass(frozen=True)
class Viewer:
    """Who is looking: an agent (acts as the team), a signed-in customer, or nobody."""

    customer: Customer | None
    agent: User | None

    @property
    def person(self) -> Customer | User | None:
        return self.agent or self.customer

    @property
    def signed_in(self) -> bool:
        return self.person is not None


def viewer(request: HttpRequest) -> Viewer:
    """The agent signed in to Happydesk, else the customer signed in to the portal, else nobody. The
    portal session holds a customer only after they proved it (a redeemed one-time link, a confirmed
    contact-form address, or verified SSO): asking for a link signs nobody in, so it can't vote."""
    cached = getattr(request, "_community_viewer", None)
    if cached is not None:
        return cached
    if request.user.is_authenticated and request.user.is_active:
        who = Viewer(customer=None, agent=request.user)
    else:
        customer_id = request.session.get(SESSION_KEY)
        customer = Customer.objects.filter(pk=customer_id).first() if customer_id else None
        who = Viewer(customer=customer, agent=None)
    request._community_viewer = who  # type: ignore[attr-defined]  # a per-request cache HttpRequest doesn't declare
    return who


def _page(request: HttpRequest, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    who = viewer(request)
    if who.customer is not None:
        request.session.pop(NEXT_KEY, None)  # they're back: the portal can stop offering the way here
        name = request.session.pop(NAME_KEY, "")
        if name and services.display_name_claim(customer=who.customer, name=name):
            who.customer.name = " ".join(name.split())[:200]
    return render(
        request,
        template,
        {"viewer": who, "q": request.GET.get("q", "").strip()[:200], **context},
        status=status,
    )


def _canonical(path: str) -> str:
    return settings.BASE_URL + path


def _topic_or_404(request: HttpRequest, topic_id: int) -> Topic:
    who = viewer(request)
    topic = selectors.topic_for_reader(topic_id, customer=who.customer, agent=who.agent)
    if topic is None:
        raise Http404("No such topic")
    return topic


def _sign_in_first(request: HttpRequest, next_path: str) -> HttpResponse:
    return redirect(f"{reverse('community_sign_in')}?next={next_path}")


def _safe_next(request: HttpRequest, value: str) -> str:
    ok = value.startswith("/community/") and local_path(value) is not None
    return value if ok else reverse("community_home")


# --- lists -----------------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "active")
    questions = list(selectors.topic_list(kind=Topic.Kind.QUESTION, sort=sort)[:PAGE])
    return _page(
        request,
        "community/home.html",
        {
            "section": "questions",
            "sort": sort if sort in selectors.SORTS else "active",
            "topics": questions,
            "voted": selectors.voted(viewer(request).customer, [t.pk for t in questions]),
            "top_ideas": list(selectors.topic_list(kind=Topic.Kind.IDEA, sort="top")[:5]),
            "known_issues": list(
                selectors.topic_list(kind=Topic.Kind.KNOWN_ISSUE, status=Topic.Status.OPEN)[:5]
            ),
            "announcements": list(selectors.live_announcements()[:3]),
            "canonical": _canonical(reverse("community_home")),
        },
    )


def ideas(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "top")
    status = request.GET.get("status", "")
    if status not in Topic.Status.values:
        status = ""
    rows = list(selectors.topic_list(kind=Topic.Kind.IDEA, sort=sort, status=status)[:100])
    counts = selectors.idea_status_counts()
    return _page(
        request,
        "community/ideas.html",
        {
            "section": "ideas",
            "sort": sort if sort in selectors.SORTS else "top",
            "status": status,
            "statuses": [(s.value, s.label, counts[s.value]) for s in IDEA_STATUSES],
            "total": sum(counts.values()),
            "topics": rows,
            "voted": selectors.voted(viewer(request).customer, [t.pk for t in rows]),
            "canonical": _canonical(reverse("community_ideas")),
        },
    )


def known_issues(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.topic_list(kind=Topic.Kind.KNOWN_ISSUE, sort="active")[:100])
    return _page(
        request,
        "community/known_issues.html",
        {
            "section": "known_issues",
            "open": [t for t in rows if t.status == Topic.Status.OPEN],
            "fixed": [t for t in rows if t.status == Topic.Status.FIXED],
            "voted": selectors.voted(viewer(request).customer, [t.pk for t in rows]),
            "canonical": _canonical(reverse("community_known_issues")),
        },
    )


def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    return _page(
        request,
        "community/search.html",
        {"section": "", "hits": selectors.search(q) if q else [], "searched": bool(q)},
    )


# --- topics ----------------------------------------------------------------------------------------


def _new_topic(request: HttpRequest, kind: str) -> HttpResponse:
    who = viewer(request)
    if who.person is None:  # not signed in
        return _sign_in_first(request, request.path)
    form = TopicForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["website"]:  # a bot filled the hidden field
            return redirect("community_home")
        try:
            topic = services.topic_create(
                kind=kind, title=form.cleaned_data["title"], body=form.cleaned_data["body"], author=who.person
            )
        except CommunityError as exc:
            error = str(exc)
        else:
            if topic.state == State.HELD:
                flash.info(
                    request, "Thanks! A moderator will look at your post before it appears for everyone."
                )
            return redirect(topic.get_absolute_url())
    return _page(
        request,
        "community/topic_form.html",
        {
            "section": {"idea": "ideas", "known_issue": "known_issues"}.get(kind, "questions"),
            "form": form,
            "kind": kind,
            "error": error,
        },
        status=429 if error.startswith("You've posted") else 200,
    )


def ask(request: HttpRequest) -> HttpResponse:
    return _new_topic(request, Topic.Kind.QUESTION)


def idea_new(request: HttpRequest) -> HttpResponse:
    return _new_topic(request, Topic.Kind.IDEA)


def known_issue_new(request: HttpRequest) -> HttpResponse:
    if viewer(request).agent is None:
        raise Http404("Only the team posts known issues")
    return _new_topic(request, Topic.Kind.KNOWN_ISSUE)


def topic_short(request: HttpRequest, topic_id: int) -> HttpResponse:
    """/community/topics/<id>/: lands on the canonical URL of whatever kind the topic is."""
    topic = _topic_or_404(request, topic_id)
    return redirect((topic.merged_into or topic).get_absolute_url(), permanent=True)


def _topic_page(request: HttpRequest, topic_id: int, slug: str, kind: str) -> HttpResponse:
    topic = _topic_or_404(request, topic_id)
    if topic.merged_into is not None:  # a merged duplicate lives on in its target
        return redirect(topic.merged_into.get_absolute_url(), permanent=True)
    if topic.kind != kind or slug != topic.slug:
        return redirect(topic.get_absolute_url(), permanent=True)
    who = viewer(request)
    posts = selectors.posts_for_reader(topic, customer=who.customer, agent=who.agent)
    context: dict = {
        "section": {"idea": "ideas", "known_issue": "known_issues"}.get(topic.kind, "questions"),
        "topic": topic,
        "posts": posts,
        "has_voted": topic.pk in selectors.voted(who.customer, [topic.pk]),
        "helpful": selectors.post_votes(who.customer, [p.pk for p in posts]),
        "following": selectors.is_following(topic, who.person),
        "followers": selectors.follower_count(topic),
        "status_history": selectors.status_history(topic),
        "merged_from": list(topic.merged_from.order_by("-merged_at")),
        "can_accept": topic.is_question
        and (
            who.agent is not None
            or (who.customer is not None and who.customer.pk == topic.author_customer_id)
        ),
        "can_post": who.signed_in and (not topic.locked or who.agent is not None),
        "post_form": PostForm(),
        "meta_description": description(topic.body),
        "canonical": _canonical(topic.get_absolute_url()),
    }
    if who.agent is not None:
        authors = {
            a for a in (topic.author_customer_id, *(p.author_customer_id for p in posts)) if a is not None
        }
        context.update(
            links=selectors.linked_conversations(topic, agent=who.agent),
            bans=selectors.bans_for(authors),
            status_form=StatusForm(topic=topic) if not topic.is_question else None,
            can_moderate=who.agent.role != User.Role.LIGHT,
        )
    return _page(request, "community/topic.html", context)


def topic(request: HttpRequest, topic_id: int, slug: str) -> HttpResponse:
    return _topic_page(request, topic_id, slug, Topic.Kind.QUESTION)


def idea(request: HttpRequest, topic_id: int, slug: str) -> HttpResponse:
    return _topic_page(request, topic_id, slug, Topic.Kind.IDEA)


def known_issue(request: HttpRequest, topic_id: int, slug: str) -> HttpResponse:
    return _topic_page(request, topic_id, slug, Topic.Kind.KNOWN_ISSUE)


def _action(request: HttpRequest, topic: Topic, call: Callable[[], object]) -> HttpResponse:
    """Run a service for a POST on a topic page; a refusal becomes a message on the page."""
    try:
        result = call()
    except CommunityError as exc:
        flash.error(request, str(exc))
        return redirect(topic.get_absolute_url())
    return result if isinstance(result, HttpResponse) else redirect(topic.get_absolute_url())


@require_POST
def answer(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = _topic_or_404(request, topic_id)
    person = viewer(request).person
    if person is None:  # not signed in
        return _sign_in_first(request, topic.get_absolute_url())
    form = PostForm(request.POST)
    if not form.is_valid() or form.cleaned_data["website"]:
        flash.error(request, "Write your answer in the box first.")
        return redirect(topic.get_absolute_url())

    def create() -> HttpResponse:
        post = services.post_create(topic=topic, body=form.cleaned_data["body"], author=person)
        if post.state == State.HELD:
            flash.info(request, "Thanks! A moderator will look at your post before it appears for everyone.")
        return redirect(f"{topic.get_absolute_url()}#post-{post.pk}")

    return _action(request, topic, create)


@require_POST
def vote(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = _topic_or_404(request, topic_id)
    who = viewer(request)
    back = (
        _safe_next(request, request.POST.get("next", ""))
        if request.POST.get("next")
        else topic.get_absolute_url()
    )
    if who.customer is None:
        if who.agent is not None:
            flash.info(request, "Votes are customers’ own: they show how many people want it.")
            return redirect(back)
        return _sign_in_first(request, back)
    if request.POST.get("action") == "remove":
        services.vote_remove(topic=topic, customer=who.customer)
        return redirect(back)
    try:
        counted = services.vote_add(topic=topic, customer=who.customer)
    except CommunityError as exc:
        flash.error(request, str(exc))
    else:
        if not counted:
            flash.info(request, "You've already voted for this one: each person counts once.")
    return redirect(back)


@require_POST
def follow(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = _topic_or_404(request, topic_id)
    person = viewer(request).person
    if person is None:
        return _sign_in_first(request, topic.get_absolute_url())
    if request.POST.get("action") == "remove":
        return _action(request, topic, lambda: services.follow_remove(topic=topic, person=person))
    return _action(request, topic, lambda: services.follow_add(topic=topic, person=person))


def _post_or_404(topic: Topic, post_id: int, who: Viewer) -> Post:
    post = selectors.post_for_topic(topic, post_id)
    if post is None:
        raise Http404("No such post")
    mine = who.customer is not None and post.author_customer_id == who.customer.pk
    if post.state != State.VISIBLE and who.agent is None and not mine:
        raise Http404("No such post")
    return post


@require_POST
def post_vote(request: HttpRequest, topic_id: int, post_id: int) -> HttpResponse:
    topic = _topic_or_404(request, topic_id)
    who = viewer(request)
    post = _post_or_404(topic, post_id, who)
    back = f"{topic.get_absolute_url()}#post-{post.pk}"
    if who.customer is None:
        return redirect(back) if who.agent else _sign_in_first(request, topic.get_absolute_url())
    if request.POST.get("action") == "remove":
        services.post_vote_remove(post=post, customer=who.customer)
        return redirect(back)
    try:
        services.post_vote_add(post=post, customer=who.customer)
    except CommunityError as exc:
        flash.error(request, str(exc))
    return redirect(back)


@require_POST
def accept(request: HttpRequest, topic_id: int, post_id: int) -> HttpResponse:
    topic = _topic_or_404(request, topic_id)
    who = viewer(request)
    post = _post_or_404(topic, post_id, who)
    person = who.person
    if person is None:
        return _sign_in_first(request, topic.get_absolute_url())
    chosen = None if request.POST.get("action") == "remove" else post
    return _action(request, topic, lambda: services.answer_accept(topic=topic, post=chosen, actor=person))


def topic_edit(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = _topic_or_404(request, topic_id)
    who = viewer(request)
    if who.person is None:
        return _sign_in_first(request, topic.get_absolute_url())
    if who.agent is None and (who.customer is None or topic.author_customer_id != who.customer.pk):
        raise Http404("No such topic")
    form = TopicForm(request.POST or None, initial={"title": topic.title, "body": topic.body})
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.topic_edit(
                topic=topic,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                editor=who.person,
            )
        except CommunityError as exc:
            error = str(exc)
        else:
            return redirect(Topic.objects.get(pk=topic.pk).get_absolute_url())
    return _page(
        request,
        "community/edit.html",
        {"section": "", "topic": topic, "form": form, "error": error, "editing": "topic"},
    )


def post_edit(request: HttpRequest, topic_id: int, post_id: int) -> HttpResponse:
    topic = _topic_or_404(request, topic_id)
    who = viewer(request)
    post = _post_or_404(topic, post_id, who)
    if who.person is None:
        return _sign_in_first(request, topic.get_absolute_url())
    if who.agent is None and (who.customer is None or post.author_customer_id != who.customer.pk):
        raise Http404("No such post")
    form = PostForm(request.POST or None, initial={"body": post.body})
    form.fields["body"].label = "Text"
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.post_edit(post=post, body=form.cleaned_data["body"], editor=who.person)
        except CommunityError as exc:
            error = str(exc)
        else:
            return redirect(f"{topic.get_absolute_url()}#post-{post.pk}")
    return _page(
        request,
        "community/edit.html",
        {"section": "", "topic": topic, "post": post, "form": form, "error": error, "editing": "post"},
    )


# --- announcements ---------------------------------------------------------------------------------


def announcements(request: HttpRequest) -> HttpResponse:
    who = viewer(request)
    last_seen = selectors.announcements_last_seen(who.customer)
    rows = list(selectors.live_announcements()[:50])
    response = _page(
        request,
        "community/announcements.html",
        {
            "section": "announcements",
            "announcements": rows,
            "last_seen": last_seen,
            "canonical": _canonical(reverse("community_announcements")),
        },
    )
    if who.customer is not None:  # they have now looked: "new" starts after this visit
        services.announcements_seen(customer=who.customer)
    return response


def announcement(request: HttpRequest, announcement_id: int, slug: str) -> HttpResponse:
    found = selectors.announcement_for_reader(announcement_id, agent=viewer(request).agent)
    if found is None:
        raise Http404("No such announcement")
    if slug != found.slug:
        return redirect(found.get_absolute_url(), permanent=True)
    return _page(
        request,
        "community/announcement.html",
        {
            "section": "announcements",
            "announcement": found,
            "meta_description": description(found.body),
            "canonical": _canonical(found.get_absolute_url()),
        },
    )


@require_POST
def announcements_seen(request: HttpRequest) -> HttpResponse:
    """ "Got it" under the new announcements in the portal: they stop being new."""
    who = viewer(request)
    if who.customer is not None:
        services.announcements_seen(customer=who.customer)
    return redirect("portal")


# --- signing in ------------------------------------------------------------------------------------


def sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for the portal's one-time link; after signing in, the portal offers the way back here."""
    next_path = _safe_next(request, request.GET.get("next") or request.POST.get("next") or "")
    if viewer(request).signed_in:
        return redirect(next_path)
    form = SignInForm(request.POST or None)
    sent, error = False, ""
    if request.method == "POST" and form.is_valid():
        request.session[NEXT_KEY] = next_path
        if form.cleaned_data["name"].strip():  # kept here, never mailed: see services.sign_in_link_send
            request.session[NAME_KEY] = form.cleaned_data["name"]
        try:
            services.sign_in_link_send(address=form.cleaned_data["email"], client_ip=client_ip(request))
        except services.TooManySignIns as exc:
            error = str(exc)
        else:
            sent = True  # the same answer whether or not the address is known
    return _page(
        request,
        "community/sign_in.html",
        {"section": "", "form": form, "sent": sent, "error": error, "next": next_path},
        status=429 if error else 200,
    )
