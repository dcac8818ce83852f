from django.db import migrations


def restore(apps, schema_editor):
    """Store the triage standing of open conversations again, now read from the customer's latest message
    (the subject only while it is their first) on the new scale (inbox/triage.py)."""
    from happydesk.inbox.triage import standing

    Conversation = apps.get_model("inbox", "Conversation")
    Message = apps.get_model("inbox", "Message")
    open_rows = Conversation.objects.exclude(status="closed").select_related("customer").order_by("id")
    batch = []
    for c in open_rows.iterator(chunk_size=2000):
        texts = list(
            Message.objects.filter(conversation_id=c.pk, kind="customer")
            .order_by("-created_at", "-id")
            .values_list("text", flat=True)[:2]
        )
        latest, first = (texts[0], len(texts) == 1) if texts else (c.preview, True)
        attributes = {} if c.unverified else c.customer.attributes
        fixed = standing(feeling=c.feeling, text=latest, subject=c.subject if first else "", attributes=attributes)
        c.priority_points, c.priority_reasons = int(fixed.score), fixed.reasons
        batch.append(c)
        if len(batch) >= 2000:
            Conversation.objects.bulk_update(batch, ["priority_points", "priority_reasons"])
            batch = []
    Conversation.objects.bulk_update(batch, ["priority_points", "priority_reasons"])


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0017_token_selectors"),
    ]

    operations = [migrations.RunPython(restore, migrations.RunPython.noop)]
