"""ConversationDocument now belongs to the inbox (inbox 0014 takes it over); the table and its full-text
index made here stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("search", "0003_suggestion_sessions"), ("inbox", "0014_documents_and_security_flags")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ConversationDocument")]
        )
    ]
