from django.db import migrations, models

SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        subject, body, content='search_conversationdocument', content_rowid='conversation_id',
        tokenize='porter unicode61 remove_diacritics 2', prefix='2 3')""",
    """CREATE TRIGGER search_fts_ai AFTER INSERT ON search_conversationdocument BEGIN
        INSERT INTO search_fts(rowid, subject, body) VALUES (new.conversation_id, new.subject, new.body); END""",
    """CREATE TRIGGER search_fts_ad AFTER DELETE ON search_conversationdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, subject, body) VALUES ('delete', old.conversation_id, old.subject, old.body); END""",
    """CREATE TRIGGER search_fts_au AFTER UPDATE ON search_conversationdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, subject, body) VALUES ('delete', old.conversation_id, old.subject, old.body);
        INSERT INTO search_fts(rowid, subject, body) VALUES (new.conversation_id, new.subject, new.body); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS search_fts_au",
    "DROP TRIGGER IF EXISTS search_fts_ad",
    "DROP TRIGGER IF EXISTS search_fts_ai",
    "DROP TABLE IF EXISTS search_fts",
]
POSTGRES_FORWARD = [
    """ALTER TABLE search_conversationdocument ADD COLUMN vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(subject, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(body, '')), 'B')) STORED""",
    "CREATE INDEX search_conversationdocument_vector ON search_conversationdocument USING GIN (vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS search_conversationdocument_vector",
    "ALTER TABLE search_conversationdocument DROP COLUMN IF EXISTS vector",
]


def forward(apps, schema_editor):
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    initial = True
    dependencies = [("inbox", "0004_drafts")]
    operations = [
        migrations.CreateModel(
            name="ConversationDocument",
            fields=[
                (
                    "conversation",
                    models.OneToOneField(
                        on_delete=models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="inbox.conversation",
                    ),
                ),
                ("subject", models.TextField(blank=True)),
                ("body", models.TextField(blank=True, help_text="Customer names and addresses, then every message's text.")),
            ],
        ),
        migrations.RunPython(forward, backward),
    ]
