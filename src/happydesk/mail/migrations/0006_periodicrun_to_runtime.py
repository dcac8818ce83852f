"""PeriodicRun now belongs to the runtime app (runtime 0001 takes it over); the table is kept."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("mail", "0005_raw_sender_auth"), ("runtime", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="PeriodicRun")])
    ]
