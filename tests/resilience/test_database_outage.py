"""While PostgreSQL restarts, pages answer a styled 503 that says to try again, not a traceback;
the site reconnects by itself when it is back.

The site reaches PostgreSQL through a TCP relay that the test cuts: every open connection is
dropped and new ones are refused, which is what a restart (or a failover) looks like from the
site.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from tests.factories import UserFactory
from tests.resilience.processes import Browser, RedisServer, Site, TcpProxy, wait_for
from tests.worker.conftest import database_url_of_test_database

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's connections"),
]


@pytest.fixture
def relay() -> Iterator[TcpProxy]:
    db = connection.settings_dict
    proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    yield proxy
    proxy.close()


@pytest.fixture
def site_behind_relay(
    own_redis: RedisServer, relay: TcpProxy, tmp_path: Path, transactional_db: None
) -> Iterator[Site]:
    host = connection.settings_dict["HOST"] or "127.0.0.1"
    port = connection.settings_dict["PORT"] or "5432"
    url = database_url_of_test_database().replace(f"@{host}:{port}/", f"@127.0.0.1:{relay.port}/")
    assert str(relay.port) in url
    running = Site(redis=own_redis, tmp_path=tmp_path, database_url=url)
    running.mail_dir.mkdir()
    yield running
    running.stop()


def signed_in(site: Site) -> Browser:
    client = Client()
    client.force_login(UserFactory.create())
    browser = Browser(site.url)
    browser.set_cookie("sessionid", client.cookies["sessionid"].value)
    return browser


def test_while_postgresql_restarts_pages_answer_a_styled_503(
    site_behind_relay: Site, relay: TcpProxy
) -> None:
    site = site_behind_relay
    site.start_web()
    browser = signed_in(site)
    assert browser.get("/me/").status == 200

    relay.cut()
    answers = [browser.get(path) for path in ("/me/", "/", "/accounts/login/")]

    for response in answers:
        assert response.status == 503, (response.status, response.text[:300])
        assert "Temporarily unavailable" in response.text
        assert "ただいま利用できません" in response.text
        assert "Traceback" not in response.text
        assert response.headers["Retry-After"] == "30"
        assert response.seconds < 3.0


def test_healthz_says_down_with_503_while_postgresql_is_unreachable(
    site_behind_relay: Site, relay: TcpProxy
) -> None:
    site = site_behind_relay
    site.start_web()

    relay.cut()
    health = site.health()

    assert health["http_status"] == "503"
    assert health["status"] == "down"
    assert health["database"].startswith("error:")
    assert float(health["seconds"]) < 3.0


def test_the_site_reconnects_by_itself_when_postgresql_is_back(
    site_behind_relay: Site, relay: TcpProxy
) -> None:
    site = site_behind_relay
    site.start_web()
    browser = signed_in(site)
    assert browser.get("/me/").status == 200
    relay.cut()
    assert browser.get("/me/").status == 503

    relay.restore()

    wait_for(lambda: browser.get("/me/").status == 200, timeout=10, what="the site to reconnect")
    assert "<h1>My data</h1>" in browser.get("/me/").text
