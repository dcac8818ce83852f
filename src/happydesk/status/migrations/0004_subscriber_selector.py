"""A subscriber's link token is no longer stored usable (happydesk/tokens.py): each row gets a fresh
selector, and the token already mailed out is kept only as a keyed digest (HMAC under SECRET_KEY), so old links still work."""

import secrets

from django.db import migrations, models

import happydesk.status.models
from happydesk.tokens import legacy_digest


def _digests_keep(apps, schema_editor):
    Subscriber = apps.get_model("status", "Subscriber")
    rows = list(Subscriber.objects.only("pk", "selector"))
    for row in rows:
        row.legacy_digest = legacy_digest("status-subscriber", row.selector)
        row.selector = secrets.token_hex(16)
    Subscriber.objects.bulk_update(rows, ["selector", "legacy_digest"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("status", "0003_security_flags_to_inbox")]

    operations = [
        migrations.RenameField("subscriber", "token", "selector"),
        migrations.AddField(
            "subscriber", "legacy_digest", models.CharField(blank=True, db_index=True, max_length=64)
        ),
        migrations.RunPython(_digests_keep, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            "subscriber",
            "selector",
            models.CharField(
                default=happydesk.status.models.new_subscriber_selector, max_length=64, unique=True
            ),
        ),
    ]
