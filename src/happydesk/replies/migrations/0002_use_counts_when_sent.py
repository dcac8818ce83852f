"""A saved reply counts as used when the reply carrying it is sent, not when it is inserted. Uses
recorded before this were all insertions; they are kept as sent, which is what most of them were."""

from django.db import migrations, models
from django.db.models import F


def _history_as_sent(apps, schema_editor):
    apps.get_model("replies", "SavedReplyUse").objects.update(sent_at=F("used_at"))


class Migration(migrations.Migration):
    dependencies = [("replies", "0001_initial")]

    operations = [
        migrations.AddField("savedreplyuse", "sent_at", models.DateTimeField(blank=True, db_index=True, null=True)),
        migrations.AddField("savedreplyuse", "inserted", models.CharField(blank=True, max_length=120)),
        migrations.RunPython(_history_as_sent, migrations.RunPython.noop),
    ]
