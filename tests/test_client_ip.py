"""Which client a request counts as, tried the way an outsider would: a forged X-Forwarded-For from a
client we don't trust changes nothing; behind a proxy configured as trusted (HAPPYDESK_TRUSTED_PROXIES)
the rightmost hop the proxies did not add is the client."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from django.test import Client

from happydesk.community.services import SIGN_INS_PER_IP
from happydesk.inbox.models import Conversation
from happydesk.portal.forms import CONTACT_LIMIT
from happydesk.ratelimit import parse_networks
from tests.helpers import free_port, start_serve, stop

pytestmark = pytest.mark.django_db

LIMITED = "several messages in a short time"


def contact(mailbox, n: int, *, remote: str, forwarded: str | None = None) -> bool:  # type: ignore[no-untyped-def]
    """Send the contact form as client number n (each with its own address); True when it was taken."""
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    data = {
        "name": "Visitor",
        "email": f"visitor{n}@example.test",
        "subject": f"Question {n}",
        "message": "Hello there, a question about my order.",
        "website": "",
    }
    r = Client().post(f"/contact/{mailbox.pk}/", data, **extra)
    return LIMITED not in r.content.decode()


def test_a_forged_forwarded_for_from_an_untrusted_client_changes_nothing(mailbox):
    """Nothing trusted (the default): a client inventing a new X-Forwarded-For for every message is still
    counted under its own address, so it is limited after CONTACT_LIMIT like anyone else."""
    taken = [
        contact(mailbox, i, remote="203.0.113.7", forwarded=f"198.51.100.{i}")
        for i in range(CONTACT_LIMIT + 3)
    ]
    assert taken == [True] * CONTACT_LIMIT + [False] * 3
    assert Conversation.objects.count() == CONTACT_LIMIT
    # Someone else, at another address, is not limited by that client's messages.
    assert contact(mailbox, 99, remote="203.0.113.8", forwarded="203.0.113.7")


def test_a_client_that_is_not_the_trusted_proxy_cannot_use_its_header(mailbox, settings):
    settings.HAPPYDESK_TRUSTED_PROXIES = ["10.0.0.0/8"]
    taken = [
        contact(mailbox, i, remote="203.0.113.7", forwarded=f"198.51.100.{i}")
        for i in range(CONTACT_LIMIT + 1)
    ]
    assert taken == [True] * CONTACT_LIMIT + [False]


def test_behind_a_trusted_proxy_each_client_counts_under_its_own_address(mailbox, settings):
    """Two chained proxies of ours (10.0.0.1 in front of 10.0.0.2); the client writes a fake first hop,
    which stays left of what our proxies appended, so it counts under the address the outer proxy saw."""
    settings.HAPPYDESK_TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::/32"]
    first = [
        contact(mailbox, i, remote="10.0.0.2", forwarded=f"1.2.3.{i}, 198.51.100.1, 10.0.0.1")
        for i in range(CONTACT_LIMIT + 1)
    ]
    assert first == [True] * CONTACT_LIMIT + [False]  # 198.51.100.1 whatever its own header said
    # Another client behind the same proxies is not limited by the first one's messages.
    assert contact(mailbox, 50, remote="10.0.0.2", forwarded="198.51.100.2")
    assert contact(mailbox, 51, remote="10.0.0.2", forwarded="[2001:db8::5]:443, 198.51.100.3:5123")
    # A hop that is no address (the client's words) stops the walk at the last hop we could read.
    assert contact(mailbox, 52, remote="10.0.0.2", forwarded="not-an-ip, 198.51.100.1") is False


def test_community_sign_in_limit_uses_the_same_client(settings, mailbox):
    settings.HAPPYDESK_TRUSTED_PROXIES = ["10.0.0.1"]
    codes = [
        Client()
        .post(
            "/community/sign-in/",
            {"email": f"v{i}@example.test"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i % 2}",
        )
        .status_code
        for i in range(2 * SIGN_INS_PER_IP + 2)
    ]
    # Two clients behind the proxy, alternating: each gets its own SIGN_INS_PER_IP.
    assert codes == [200] * (2 * SIGN_INS_PER_IP) + [429, 429]


def test_a_bad_trusted_proxy_entry_is_refused():
    with pytest.raises(ValueError, match="not-a-network"):
        parse_networks(["10.0.0.0/8", "not-a-network"])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_served_over_http_a_loopback_client_cannot_pick_its_address(mailbox):
    """`happydesk serve` as a real server: a client on loopback sending a new X-Forwarded-For each time is
    still limited, since no proxy is configured as trusted."""
    http, smtp = free_port(), free_port()
    proc = start_serve(http, smtp)
    try:
        taken = []
        for i in range(CONTACT_LIMIT + 1):
            jar = CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            url = f"http://127.0.0.1:{http}/contact/{mailbox.pk}/"
            page = opener.open(url).read().decode()
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            body = urllib.parse.urlencode(
                {
                    "csrfmiddlewaretoken": token,
                    "name": "Visitor",
                    "email": f"visitor{i}@example.test",
                    "subject": f"Question {i}",
                    "message": "Hello there, a question about my order.",
                    "website": "",
                }
            ).encode()
            request = urllib.request.Request(url, data=body, headers={"X-Forwarded-For": f"198.51.100.{i}"})
            try:
                taken.append(opener.open(request).status == 200)
            except urllib.error.HTTPError as refused:
                assert refused.code == 429, refused.code
                taken.append(False)
        assert taken == [True] * CONTACT_LIMIT + [False]
    finally:
        stop(proc)
