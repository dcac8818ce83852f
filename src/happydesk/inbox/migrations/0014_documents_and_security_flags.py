"""Conversations' search documents (from the search app) and security flags (from the status app) now
belong to the inbox, the layer that reads and writes them. The tables stay; only Django's state moves."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0013_sender_verification"),
        ("search", "0003_suggestion_sessions"),
        ("status", "0002_incident_plan"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ConversationDocument",
                    fields=[
                        (
                            "conversation",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="search_document",
                                serialize=False,
                                to="inbox.conversation",
                            ),
                        ),
                        ("subject", models.TextField(blank=True)),
                        (
                            "body",
                            models.TextField(
                                blank=True, help_text="Customer names and addresses, then every message's text."
                            ),
                        ),
                    ],
                    options={"db_table": "search_conversationdocument"},
                ),
                migrations.CreateModel(
                    name="SecurityFlag",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("active", models.BooleanField(default=True)),
                        ("reason", models.CharField(max_length=300)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("cleared_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "cleared_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "conversation",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="security_flag",
                                to="inbox.conversation",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "status_securityflag",
                        "indexes": [
                            models.Index(fields=["active", "conversation"], name="status_secu_active_4188d5_idx")
                        ],
                    },
                ),
            ]
        )
    ]
