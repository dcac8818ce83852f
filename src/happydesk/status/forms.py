"""Agent forms for the status page: declare, update, schedule, components."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from happydesk.status.models import Component, ComponentState, Incident
from happydesk.status.selectors import visible_components

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
AFFECTED_CHOICES = [
    ("", "Not affected"),
    (ComponentState.DEGRADED, "Degraded performance"),
    (ComponentState.PARTIAL_OUTAGE, "Partial outage"),
    (ComponentState.MAJOR_OUTAGE, "Major outage"),
]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format=DATETIME_FORMAT)


class AffectedComponentsMixin(forms.Form):
    """One select per component: not affected, or the state the incident puts it in."""

    def add_component_fields(self, components: list[Component], initial: dict[int, str]) -> None:
        self.components = components
        for component in components:
            label = f"{component.group.name}: {component.name}" if component.group else component.name
            self.fields[f"component_{component.pk}"] = forms.ChoiceField(
                label=label, choices=AFFECTED_CHOICES, required=False, initial=initial.get(component.pk, "")
            )

    def component_fields(self) -> list:
        return [self[f"component_{c.pk}"] for c in self.components]

    def affected(self) -> dict[Component, str]:
        data = self.cleaned_data
        return {c: data[f"component_{c.pk}"] for c in self.components if data.get(f"component_{c.pk}")}


class IncidentForm(AffectedComponentsMixin, forms.Form):
    title = forms.CharField(max_length=200, help_text="What customers notice, e.g. “Emails are delayed”.")
    impact = forms.ChoiceField(choices=Incident.Impact.choices, initial=Incident.Impact.MINOR)
    state = forms.ChoiceField(
        choices=[(s.value, s.label) for s in Incident.INCIDENT_STATES if s != Incident.State.RESOLVED],
        initial=Incident.State.INVESTIGATING,
    )
    body = forms.CharField(
        label="First update",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown on the status page and emailed to subscribers. Say what is affected and when you'll update next.",
    )
    notify = forms.BooleanField(label="Email subscribers", required=False, initial=True)

    def __init__(self, *args: Any, components: list[Component], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_component_fields(components, {})


class UpdateForm(AffectedComponentsMixin, forms.Form):
    state = forms.ChoiceField()
    body = forms.CharField(label="Update", widget=forms.Textarea(attrs={"rows": 4}))
    notify = forms.BooleanField(label="Email subscribers", required=False, initial=True)

    def __init__(self, *args: Any, incident: Incident, components: list[Component], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.incident = incident
        cast(forms.ChoiceField, self.fields["state"]).choices = [
            (s.value, s.label) for s in Incident.INCIDENT_STATES
        ]
        self.fields["state"].initial = incident.state
        held = {
            a.component_id: a.state for a in incident.affected.all() if a.state != ComponentState.OPERATIONAL
        }
        self.add_component_fields(components, held)


class MaintenanceForm(forms.Form):
    title = forms.CharField(max_length=200, help_text="e.g. “Database upgrade”.")
    scheduled_start = forms.DateTimeField(
        label="Starts (UTC)", widget=DateTimeLocalInput(), input_formats=[DATETIME_FORMAT]
    )
    scheduled_end = forms.DateTimeField(
        label="Ends (UTC)", widget=DateTimeLocalInput(), input_formats=[DATETIME_FORMAT]
    )
    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Affected components",
    )
    body = forms.CharField(
        label="Announcement",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What will happen and what customers may notice during the window.",
    )
    notify = forms.BooleanField(label="Email subscribers", required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["components"]).queryset = visible_components()

    def clean(self) -> dict:
        data = super().clean() or {}
        if (
            data.get("scheduled_start")
            and data.get("scheduled_end")
            and data["scheduled_end"] <= data["scheduled_start"]
        ):
            self.add_error("scheduled_end", "The window must end after it starts.")
        return data


class MaintenanceStepForm(forms.Form):
    body = forms.CharField(label="Note (optional)", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    notify = forms.BooleanField(label="Email subscribers", required=False, initial=True)


class ComponentForm(forms.Form):
    name = forms.CharField(max_length=200)
    group = forms.CharField(
        max_length=200,
        required=False,
        help_text="A heading it sits under, e.g. “Product”. New names create a group.",
    )
    description = forms.CharField(max_length=300, required=False)
    order = forms.IntegerField(min_value=0, initial=0, help_text="Lower comes first.")


class ComponentStateForm(forms.Form):
    state = forms.ChoiceField(choices=ComponentState.choices)


# --- the incident plan --------------------------------------------------------------------------------

SINCE_CHOICES = [
    (1, "the last hour"),
    (3, "the last 3 hours"),
    (6, "the last 6 hours"),
    (24, "the last 24 hours"),
    (72, "the last 3 days"),
    (168, "the last week"),
]


def split_list(text: str) -> list[str]:
    """Comma- or line-separated values, trimmed, without empties or repeats."""
    parts = [p.strip() for chunk in text.splitlines() for p in chunk.split(",")]
    return list(dict.fromkeys(p for p in parts if p))


class PlanFieldsMixin(forms.Form):
    """What the incident plan matches: tags, words (searched like the inbox), a time window."""

    def add_plan_fields(self) -> None:
        fields = self.fields
        fields["run_plan"] = forms.BooleanField(label="Run the incident plan", required=False, initial=True)
        fields["keywords"] = forms.CharField(
            label="Words customers use",
            required=False,
            max_length=500,
            help_text="Comma-separated, searched like the inbox search box, e.g. “login, sign in”.",
        )
        fields["tags"] = forms.CharField(
            label="Tags", required=False, max_length=500, help_text="Comma-separated, e.g. “login”."
        )
        fields["since_hours"] = forms.TypedChoiceField(
            label="Conversations with customer messages in",
            choices=SINCE_CHOICES,
            coerce=int,
            initial=24,
            required=False,
            empty_value=24,  # type: ignore[arg-type]  # stubs: str | None; Django hands back any value for no choice
        )
        fields["warning"] = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def plan_fields(self) -> list:
        return [self[n] for n in ("keywords", "tags", "since_hours")]


class DeclareForm(PlanFieldsMixin, IncidentForm):
    """Declaring an incident, with what its plan should match."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_plan_fields()

    def main_fields(self) -> list:
        return [self[n] for n in ("title", "impact", "state", "body", "notify")]


class PlanUpdateForm(UpdateForm):
    reply_to_linked = forms.BooleanField(label="Reply to every linked customer", required=False, initial=True)


class SendForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 9}), label="The reply")


class LinkAddForm(forms.Form):
    number = forms.CharField(label="Conversation number", max_length=12)

    def clean_number(self) -> int:
        value = self.cleaned_data["number"].strip().lstrip("#")
        if not value.isdigit():
            raise forms.ValidationError("Give a conversation number, like 1234.")
        return int(value)


class ResolveForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    notify = forms.BooleanField(required=False)
    reply_to_linked = forms.BooleanField(required=False)


class IncidentSettingsForm(forms.Form):
    early_warning = forms.CharField(
        label="Early-warning list",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One address per line. Told first when an incident is declared or volume jumps.",
    )
    on_call = forms.CharField(
        label="On-call list for security reports",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One address per line; told at once, at any hour. Empty: every admin.",
    )
    contact_every_minutes = forms.IntegerField(
        label="Minimum contact (minutes)",
        min_value=0,
        max_value=24 * 60,
        help_text="Remind the team when customers have heard nothing for this long. 0: never.",
    )
    replies_per_minute = forms.IntegerField(label="Bulk replies per minute", min_value=1, max_value=10_000)
    reply_template = forms.CharField(
        label="Template for the incident's saved reply",
        widget=forms.Textarea(attrs={"rows": 9}),
        help_text="{title}, {body} (the first update) and {url} (its status page) are filled when "
        "declared; {{ customer.first_name }} and {{ agent.first_name }} for each conversation.",
    )

    def _addresses(self, name: str) -> list[str]:
        from django.core.validators import validate_email

        addresses = list(dict.fromkeys(a.lower() for a in split_list(self.cleaned_data.get(name, ""))))
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError as exc:
                raise forms.ValidationError(f"{address} is not an email address.") from exc
        return addresses

    def clean_early_warning(self) -> list[str]:
        return self._addresses("early_warning")

    def clean_on_call(self) -> list[str]:
        return self._addresses("on_call")
