"""Agent forms for the status page: declare, update, schedule, components."""

from __future__ import annotations

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


class AffectedComponentsMixin:
    """One select per component: not affected, or the state the incident puts it in."""

    fields: dict

    def add_component_fields(self, components: list[Component], initial: dict[int, str]) -> None:
        self.components = components
        for component in components:
            label = f"{component.group.name}: {component.name}" if component.group else component.name
            self.fields[f"component_{component.pk}"] = forms.ChoiceField(
                label=label, choices=AFFECTED_CHOICES, required=False, initial=initial.get(component.pk, "")
            )

    def component_fields(self) -> list:
        return [self[f"component_{c.pk}"] for c in self.components]  # type: ignore[index]

    def affected(self) -> dict[Component, str]:
        data = self.cleaned_data  # type: ignore[attr-defined]
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

    def __init__(self, *args, components: list[Component], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.add_component_fields(components, {})


class UpdateForm(AffectedComponentsMixin, forms.Form):
    state = forms.ChoiceField()
    body = forms.CharField(label="Update", widget=forms.Textarea(attrs={"rows": 4}))
    notify = forms.BooleanField(label="Email subscribers", required=False, initial=True)

    def __init__(self, *args, incident: Incident, components: list[Component], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.incident = incident
        self.fields["state"].choices = [(s.value, s.label) for s in Incident.INCIDENT_STATES]
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

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = visible_components()

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
