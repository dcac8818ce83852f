"""Saved replies pages: the list with usage, the most used this month, the editor, and the insert a
conversation's composer asks for."""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from happydesk.accounts.decorators import AgentRequest
from happydesk.inbox.access import access_conversation_for_agent
from happydesk.inbox.models import Mailbox
from happydesk.replies.models import SavedReply
from happydesk.replies.services import (
    FIX_THE_CAUSE_SENDS,
    most_used,
    saved_replies_for,
    saved_reply_save,
    saved_reply_use,
)


class SavedReplyForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=SavedReply.Kind.choices)
    mailbox = forms.ModelChoiceField(
        queryset=Mailbox.objects.order_by("name"), required=False, empty_label="Every mailbox"
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Placeholders: {{ customer.first_name }}, {{ agent.first_name }}, {{ conversation.number }}, "
        "{{ mailbox.name }}. Anything like [NAME] or <COMPANY> must be filled in by hand before sending.",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="How to use it (agents only)"
    )


@login_required
def saved_replies(request: AgentRequest) -> HttpResponse:
    rows = (
        SavedReply.objects.select_related("mailbox")
        .annotate(total=Count("uses", filter=Q(uses__sent_at__isnull=False)))
        .order_by("name")
    )
    context = {"rows": rows, "top": most_used(days=30), "threshold": FIX_THE_CAUSE_SENDS}
    return render(request, "replies/saved_replies.html", context)


@login_required
def saved_reply_edit(request: AgentRequest, reply_id: int | None = None) -> HttpResponse:
    saved = get_object_or_404(SavedReply, pk=reply_id) if reply_id else None
    initial = (
        {
            "name": saved.name,
            "kind": saved.kind,
            "mailbox": saved.mailbox,
            "body": saved.body,
            "note": saved.note,
        }
        if saved
        else None
    )
    form = SavedReplyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved_reply_save(
            name=data["name"],
            body=data["body"],
            note=data["note"],
            kind=data["kind"],
            mailbox_id=data["mailbox"].pk if data["mailbox"] else None,
            author=request.user,
            saved_reply=saved,
        )
        flash.success(request, f"Saved reply “{data['name']}” saved.")
        return redirect("saved_replies")
    return render(
        request, "web/admin_form.html", {"form": form, "title": "Saved reply", "back": "saved_replies"}
    )


@login_required
@require_POST
def saved_reply_insert(request: AgentRequest, number: int, reply_id: int) -> JsonResponse:
    """The saved reply's text with this conversation's placeholders filled (records the use)."""
    convo = access_conversation_for_agent(request.user, number)
    saved = saved_replies_for(convo).filter(pk=reply_id).first()
    if saved is None:
        raise Http404
    text = saved_reply_use(saved_reply=saved, conversation=convo, agent=request.user)
    return JsonResponse({"text": text, "note": saved.note, "name": saved.name})
