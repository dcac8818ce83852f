"""The staffing page: agents needed per hour of the week beside the schedule, and the shift editor."""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from happydesk.accounts.decorators import AgentRequest, admin_required
from happydesk.accounts.forms import AgentChoiceField
from happydesk.accounts.models import User
from happydesk.inbox.models import Mailbox
from happydesk.reports import staffing
from happydesk.scheduling import selectors as schedule
from happydesk.scheduling import services as scheduling
from happydesk.scheduling.models import Shift


@cache
def _zone_names() -> list[str]:
    """The time zone names for the picker: available_timezones() walks the tz database (~30 ms)."""
    return sorted(available_timezones())


def _default_zone() -> str:
    return Mailbox.objects.order_by("pk").values_list("timezone", flat=True).first() or "UTC"


class StaffingForm(forms.Form):
    """The page's inputs; every field has a default, so an empty query string is a valid plan."""

    weeks = forms.IntegerField(min_value=1, max_value=52, required=False, initial=8)
    tz = forms.CharField(required=False, label="Time zone")
    email_aht = forms.FloatField(min_value=0.1, max_value=24 * 60, required=False, label="Handle time (min)")
    email_level = forms.IntegerField(min_value=1, max_value=99, required=False, initial=80)
    email_within = forms.IntegerField(min_value=1, max_value=7 * 24 * 60, required=False, initial=60)
    chat_aht = forms.FloatField(min_value=0.1, max_value=24 * 60, required=False, label="Handle time (min)")
    chat_level = forms.IntegerField(min_value=1, max_value=99, required=False, initial=80)
    chat_within = forms.IntegerField(min_value=1, max_value=24 * 3600, required=False, initial=30)
    max_occupancy = forms.IntegerField(min_value=1, max_value=100, required=False, label="Max occupancy (%)")

    def clean_tz(self) -> str:
        zone = self.cleaned_data.get("tz") or _default_zone()
        if not scheduling.valid_timezone(zone):
            raise forms.ValidationError("Unknown time zone")
        return zone

    def value(self, name: str) -> Any:
        """The cleaned value, or the field's default when left empty (typed as the field named)."""
        data = self.cleaned_data.get(name)
        return self.fields[name].initial if data is None else data


class ShiftForm(forms.Form):
    agent = AgentChoiceField(queryset=User.objects.filter(is_active=True).order_by("name"))
    weekday = forms.TypedChoiceField(choices=Shift.Weekday.choices, coerce=int)
    start = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    timezone = forms.CharField(max_length=64)

    def clean_timezone(self) -> str:
        zone = self.cleaned_data["timezone"]
        if not scheduling.valid_timezone(zone):
            raise forms.ValidationError("Unknown time zone")
        return zone


@login_required
def staffing_page(request: AgentRequest) -> HttpResponse:
    """Agents needed per hour of the week (Erlang C on real arrivals) beside the scheduled cover."""
    form = StaffingForm(request.GET or None)
    valid = form.is_valid() if request.GET else False
    if request.GET and not valid:
        return render(request, "reports/staffing.html", _context(form, None), status=400)
    if not request.GET:
        form = StaffingForm({})
        form.is_valid()
    occupancy = form.value("max_occupancy")
    plan = staffing.staffing_plan(
        weeks=form.value("weeks"),
        zone=form.cleaned_data["tz"],
        goals={
            "email": staffing.Goal(form.value("email_level") / 100, form.value("email_within") * 60),
            "chat": staffing.Goal(form.value("chat_level") / 100, form.value("chat_within")),
        },
        handle_seconds={
            "email": form.value("email_aht") and form.value("email_aht") * 60,
            "chat": form.value("chat_aht") and form.value("chat_aht") * 60,
        },
        max_occupancy=occupancy / 100 if occupancy else None,
    )
    return render(request, "reports/staffing.html", _context(form, plan))


def _context(form: StaffingForm, plan: staffing.StaffingPlan | None) -> dict:
    zone = form.cleaned_data.get("tz") if hasattr(form, "cleaned_data") else None
    return {
        "form": form,
        "plan": plan,
        "hours": range(24),
        "shift_groups": schedule.shift_groups(),
        "shift_form": ShiftForm(initial={"timezone": zone or _default_zone()}),
        "zones": _zone_names(),
    }


@require_POST
@admin_required
def shift_add(request: AgentRequest) -> HttpResponse:
    """Admins add a weekly shift to the schedule."""
    form = ShiftForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Shift not added: " + "; ".join(str(e) for es in form.errors.values() for e in es)
        )
        return redirect("staffing")
    try:
        scheduling.shift_add(**form.cleaned_data)
    except scheduling.BadShift as exc:
        messages.error(request, f"Shift not added: {exc}")
    return redirect("staffing")


@require_POST
@admin_required
def shift_remove(request: AgentRequest, shift_id: int) -> HttpResponse:
    """Admins remove a shift."""
    scheduling.shift_remove(shift=get_object_or_404(Shift, pk=shift_id))
    return redirect("staffing")
