"""An email that tracks its reader: HTML with a remote image, a CSS background and a remote stylesheet on
a server the sender controls (a real HTTP server on 127.0.0.2 that counts what it is asked for). Opened
in Chromium, the agent's browser asks that server for nothing until the agent clicks "Load remote
images" for that message; and a community post cannot track its readers the same way."""

from __future__ import annotations

import threading
import time
from email.message import EmailMessage
from email.utils import make_msgid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from happydesk.inbox.models import Conversation
from tests.helpers import deliver_raw, free_port, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PIXEL = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


class Tracker:
    """The sender's server: records every path a browser asks it for."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                tracker.asked.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/css" if self.path.endswith(".css") else "image/png")
                self.end_headers()
                self.wfile.write(b"body{color:red}" if self.path.endswith(".css") else PIXEL)

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.2", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.2:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 10) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.asked) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.asked


@pytest.fixture
def tracker():  # type: ignore[no-untyped-def]
    t = Tracker()
    yield t
    t.server.shutdown()


def test_a_tracking_email_is_silent_until_the_agent_loads_its_images(
    page, live_server, mailbox, agent, tracker
):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "promo@example.test", "support@acme.test", "Your invoice"
    msg["Message-ID"] = make_msgid(domain="example.test")
    msg.set_content("Your invoice is ready.")
    msg.add_alternative(
        f"""<html><head><link rel="stylesheet" href="{tracker.url("/style.css")}"></head><body>
        <p>Your invoice is ready.</p>
        <img src="{tracker.url("/open.png?who=agent")}" alt="logo" width="40" height="40">
        <div style="background-image:url('{tracker.url("/bg.png")}');height:20px">x</div>
        <table background="{tracker.url("/table.png")}"><tr><td>Total: $49</td></tr></table>
        </body></html>""",
        subtype="html",
    )
    deliver_raw(msg.as_bytes(), envelope_to=["support@acme.test"])
    number = Conversation.objects.get(subject="Your invoice").number

    sign_in(page, live_server.url, "alex@acme.test", "correct-horse-battery")
    page.goto(f"{live_server.url}/c/{number}/")
    page.get_by_text("Show formatted").click()
    frame = page.frame_locator("iframe[title='Formatted message']")
    frame.get_by_text("Total: $49").wait_for()  # the frame is rendered: anything it would load was asked for
    page.get_by_text("Remote images are blocked").wait_for()
    page.wait_for_load_state("networkidle")
    assert tracker.asked == [], f"the sender's server learned we read it: {tracker.asked}"

    page.get_by_role("link", name="Load remote images").click()
    page.wait_for_url(f"**/c/{number}/?images=*")
    page.get_by_text("Remote images are shown for this message.").wait_for()
    asked = tracker.wait_for(1)
    assert any(path.startswith("/open.png") for path in asked), asked
    assert "/style.css" not in asked  # stylesheets stay blocked: only images were asked for
