"""`happydesk mail import` over .eml files, an mbox and a maildir; importing twice adds nothing."""

from __future__ import annotations

import mailbox as stdlib_mailbox
from email import message_from_bytes

import pytest
from django.core.management import call_command

from happydesk.inbox.models import Message
from happydesk.mail.models import RawMessage
from tests.helpers import make_email

pytestmark = pytest.mark.django_db(transaction=True)


def test_import_eml_mbox_and_maildir_once(mailbox, tmp_path, capsys):
    (tmp_path / "one.eml").write_bytes(make_email(subject="From an eml file"))
    box = stdlib_mailbox.mbox(tmp_path / "archive.mbox")
    for i in range(3):
        box.add(message_from_bytes(make_email(subject=f"From the mbox {i}")))
    box.flush()
    md = stdlib_mailbox.Maildir(tmp_path / "Maildir", create=True)
    for i in range(2):
        md.add(make_email(subject=f"From the maildir {i}"))
    paths = [str(tmp_path / "one.eml"), str(tmp_path / "archive.mbox"), str(tmp_path / "Maildir")]

    call_command("mail", "import", *paths, "--jobs", "2")
    out = capsys.readouterr().out
    assert "imported 6 messages (6 processed)" in out
    assert Message.objects.filter(kind="customer").count() == 6
    assert set(RawMessage.objects.values_list("source", flat=True)) == {"import"}

    call_command("mail", "import", *paths)
    out = capsys.readouterr().out
    assert "6 duplicate" in out
    assert Message.objects.filter(kind="customer").count() == 6


def test_import_of_a_missing_path_is_a_clear_error(db, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="does not exist"):
        call_command("mail", "import", str(tmp_path / "nope.mbox"))
