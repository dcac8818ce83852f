"""SecurityFlag now belongs to the inbox, beside its access rule (inbox 0014 takes it over); the table
stays."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("status", "0002_incident_plan"), ("inbox", "0014_documents_and_security_flags")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="SecurityFlag")])
    ]
