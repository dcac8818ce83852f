"""Saved view names are unique in each list an agent sees. Views saved twice under one name before
this get a number added ("Refunds (2)"), so the constraint can hold."""

from django.db import migrations, models
from django.db.models import Q
from django.db.models.functions import Lower


def _names_made_unique(apps, schema_editor):
    SavedView = apps.get_model("inbox", "SavedView")
    seen: set[tuple[int | None, str]] = set()
    for view in SavedView.objects.order_by("created_at", "id"):
        base, n = view.name, 1
        while (view.owner_id, view.name.lower()) in seen:
            n += 1
            view.name = f"{base[:90]} ({n})"
        if view.name != base:
            view.save(update_fields=["name"])
        seen.add((view.owner_id, view.name.lower()))


class Migration(migrations.Migration):
    dependencies = [("inbox", "0018_triage_latest_message")]

    operations = [
        migrations.RunPython(_names_made_unique, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="savedview",
            constraint=models.UniqueConstraint(
                Lower("name"), condition=Q(owner__isnull=True), name="saved_view_team_name_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="savedview",
            constraint=models.UniqueConstraint(Lower("name"), "owner", name="saved_view_own_name_unique"),
        ),
    ]
