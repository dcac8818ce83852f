"""IMAP passwords are encrypted at rest (happydesk/crypto.py): the column becomes text, and every
password stored in the clear until now is encrypted in place."""

from django.db import migrations

import happydesk.crypto


def encrypt_stored_passwords(apps, schema_editor):  # type: ignore[no-untyped-def]
    Mailbox = apps.get_model("inbox", "Mailbox")
    for mailbox in Mailbox.objects.exclude(imap_password=""):
        mailbox.save(update_fields=["imap_password"])  # read plain (no prefix), written encrypted


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0015_outbox_sweep_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mailbox",
            name="imap_password",
            field=happydesk.crypto.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(encrypt_stored_passwords, migrations.RunPython.noop),
    ]
