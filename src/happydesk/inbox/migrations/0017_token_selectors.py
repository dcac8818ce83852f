"""The conversation's two secrets are no longer stored usable (happydesk/tokens.py): each row gets fresh
selectors, and the tokens already handed out (reply addresses in customers' mail, portal links) are
kept only as keyed digests (HMAC under SECRET_KEY), so they still thread and open."""

import secrets

from django.db import migrations, models

import happydesk.inbox.models
from happydesk.tokens import legacy_digest


def _digests_keep(apps, schema_editor):
    Conversation = apps.get_model("inbox", "Conversation")
    batch = []
    for row in Conversation.objects.only("pk", "link_selector", "reply_selector").iterator(chunk_size=2000):
        row.link_legacy_digest = legacy_digest("conversation-link", row.link_selector)
        row.reply_legacy_digest = legacy_digest("reply-address", row.reply_selector)
        row.link_selector, row.reply_selector = secrets.token_hex(12), secrets.token_hex(8)
        batch.append(row)
        if len(batch) >= 2000:
            Conversation.objects.bulk_update(batch, [*FIELDS])
            batch = []
    Conversation.objects.bulk_update(batch, [*FIELDS])


FIELDS = ("link_selector", "reply_selector", "link_legacy_digest", "reply_legacy_digest")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0016_imap_password_encrypted")]

    operations = [
        migrations.RenameField("conversation", "token", "link_selector"),
        migrations.RenameField("conversation", "reply_token", "reply_selector"),
        migrations.AddField(
            "conversation",
            "link_legacy_digest",
            models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AddField(
            "conversation",
            "reply_legacy_digest",
            models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.RunPython(_digests_keep, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            "conversation",
            "link_selector",
            models.CharField(default=happydesk.inbox.models.new_link_selector, max_length=32, unique=True),
        ),
        migrations.AlterField(
            "conversation",
            "reply_selector",
            models.CharField(default=happydesk.inbox.models.new_reply_selector, max_length=32, unique=True),
        ),
    ]
