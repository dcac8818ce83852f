"""Quality review pages: draw a sample, score conversations, see results per agent and for the team.

Reviewers are admins. Every agent sees their own reviews; nobody sees a ranking."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from happydesk.accounts.decorators import AgentRequest, role_required
from happydesk.accounts.forms import AgentChoiceField
from happydesk.accounts.models import User
from happydesk.feedback import review_selectors as selectors
from happydesk.feedback import review_services as services
from happydesk.feedback.models import QualityReview, ReviewSample
from happydesk.inbox.access import access_conversation_for_agent
from happydesk.inbox.models import Message
from happydesk.scheduling.models import Shift


class ShiftChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Shift) -> str:
        return f"{obj.agent.name} · {obj.get_weekday_display()} {obj.start:%H:%M}–{obj.end:%H:%M} ({obj.timezone})"


class SampleForm(forms.Form):
    agent = AgentChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label="Whole team",
    )
    shift = ShiftChoiceField(
        queryset=Shift.objects.select_related("agent").order_by("agent__name", "weekday", "start"),
        required=False,
        empty_label="Any time",
        help_text="Only replies written during this weekly shift (by its agent).",
    )
    since = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    size = forms.IntegerField(min_value=1, max_value=services.MAX_SAMPLE, initial=5)


class ScoreForm(forms.Form):
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Overall")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in QualityReview.CRITERIA:
            self.fields[name] = forms.TypedChoiceField(
                choices=QualityReview.Score.choices, coerce=int, widget=forms.RadioSelect, label=label
            )
            self.fields[f"{name}_comment"] = forms.CharField(
                required=False, widget=forms.Textarea(attrs={"rows": 2}), label=f"{label}: comment"
            )

    def criteria(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[name], self[f"{name}_comment"]) for name, _ in QualityReview.CRITERIA]


reviewers_only = role_required(User.Role.ADMIN, refusal="Reviewers (admins) only")


@login_required
def reviews(request: AgentRequest) -> HttpResponse:
    """Reviewers: start a sample, continue one, see the team over time. Agents: their own page."""
    if not request.user.is_admin:
        return redirect("review_agent", agent_id=request.user.pk)
    today = timezone.localdate()
    team = selectors.reviews()
    return render(
        request,
        "feedback/review_index.html",
        {
            "form": SampleForm(initial={"since": today - timedelta(days=7), "until": today, "size": 5}),
            "samples": selectors.open_samples(reviewer=request.user),
            "team": selectors.averages(team),
            "trend": selectors.trend(team),
            "agents": selectors.reviewed_agents(),
            "recent_comments": [r for r in team.exclude(comment="")[:10]],
        },
    )


@require_POST
@reviewers_only
def review_sample_create(request: AgentRequest) -> HttpResponse:
    form = SampleForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Sample not drawn: " + "; ".join(str(e) for es in form.errors.values() for e in es)
        )
        return redirect("reviews")
    try:
        sample = services.review_sample_create(reviewer=request.user, **form.cleaned_data)
    except services.BadReview as exc:
        messages.error(request, f"Sample not drawn: {exc}")
        return redirect("reviews")
    if not sample.conversations.exists():
        messages.info(request, "No conversations with replies match (or all are reviewed already).")
    return redirect("review_sample", sample_id=sample.pk)


@reviewers_only
def review_sample(request: AgentRequest, sample_id: int) -> HttpResponse:
    sample = get_object_or_404(ReviewSample, pk=sample_id)
    rows = selectors.sample_rows(sample, reviewer=request.user)
    return render(
        request,
        "feedback/review_sample.html",
        {"sample": sample, "rows": rows, "scored": sum(1 for r in rows if r.review)},
    )


@reviewers_only
def review_score(request: AgentRequest, sample_id: int, number: int) -> HttpResponse:
    """Score one conversation of a sample: the thread on the left, four criteria on the right."""
    sample = get_object_or_404(ReviewSample, pk=sample_id)
    conversation = access_conversation_for_agent(request.user, number)
    agent_id = sample.filters.get("picks", {}).get(str(conversation.pk))
    if agent_id is None or not sample.conversations.filter(pk=conversation.pk).exists():
        raise Http404("Not in this sample")
    agent = get_object_or_404(User, pk=agent_id)
    existing = QualityReview.objects.filter(
        conversation=conversation, agent=agent, reviewer=request.user
    ).first()
    form = ScoreForm(request.POST or None, initial=_initial(existing))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.quality_review_save(
                conversation=conversation,
                agent=agent,
                reviewer=request.user,
                scores={name: data[name] for name, _ in QualityReview.CRITERIA},
                comments={name: data[f"{name}_comment"] for name, _ in QualityReview.CRITERIA},
                comment=data["comment"],
                sample=sample,
            )
        except services.BadReview as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Review of #{conversation.pk} saved.")
            left = [r for r in selectors.sample_rows(sample, reviewer=request.user) if r.review is None]
            if left and left[0].agent is not None and left[0].agent != request.user:
                return redirect("review_score", sample_id=sample.pk, number=left[0].conversation.pk)
            return redirect("review_sample", sample_id=sample.pk)
    thread = (
        conversation.messages.exclude(kind=Message.Kind.EVENT)
        .select_related("author")
        .order_by("created_at", "id")
    )
    return render(
        request,
        "feedback/review_score.html",
        {
            "sample": sample,
            "c": conversation,
            "agent": agent,
            "thread": thread,
            "form": form,
            "review": existing,
        },
    )


def _initial(review: QualityReview | None) -> dict:
    if review is None:
        return {}
    names = [n for n, _ in QualityReview.CRITERIA]
    return {
        **{n: getattr(review, n) for n in names},
        **{f"{n}_comment": getattr(review, f"{n}_comment") for n in names},
        "comment": review.comment,
    }


@login_required
def review_agent(request: AgentRequest, agent_id: int) -> HttpResponse:
    """One agent's reviews over time, with comments; open to that agent and to reviewers only."""
    if not (request.user.is_admin or request.user.pk == agent_id):
        raise Http404("No such page")
    agent = get_object_or_404(User, pk=agent_id)
    own = selectors.reviews(agent=agent)
    return render(
        request,
        "feedback/review_agent.html",
        {
            "agent": agent,
            "is_self": request.user.pk == agent.pk,
            "summary": selectors.averages(own),
            "trend": selectors.trend(own),
            "reviews": own[:100],
        },
    )
