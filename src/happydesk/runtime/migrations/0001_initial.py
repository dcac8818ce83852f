"""PeriodicRun moves from the mail app to the runtime app: the table stays, only Django's state moves."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("mail", "0005_raw_sender_auth")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PeriodicRun",
                    fields=[
                        ("name", models.CharField(max_length=100, primary_key=True, serialize=False)),
                        ("last_run_at", models.DateTimeField(null=True)),
                    ],
                    options={"db_table": "mail_periodicrun"},
                )
            ]
        )
    ]
