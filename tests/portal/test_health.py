"""GET /healthz tells an operator whether the database, broker and a worker are alive."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from portal.celery import app
from portal.infra.health import HEARTBEAT_CACHE_KEY, record_worker_heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_when_database_broker_and_a_recent_worker_heartbeat_are_there(client) -> None:
    record_worker_heartbeat(hostname="worker@test")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "worker": "ok"}


def test_healthz_is_503_and_says_why_when_no_worker_ever_reported(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["worker"] == "error: no heartbeat received from any worker"


def test_healthz_reports_a_stale_heartbeat_with_its_age(client, settings) -> None:
    settings.WORKER_HEARTBEAT_MAX_AGE = 60
    cache.set(HEARTBEAT_CACHE_KEY, {"at": time.time() - 600, "hostname": "w"})
    body = client.get("/healthz").json()
    assert body["worker"].startswith("error: last heartbeat 6")


def test_healthz_reports_an_unreachable_broker(client, monkeypatch) -> None:
    record_worker_heartbeat(hostname="worker@test")
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error:")


def test_healthz_is_never_cached(client) -> None:
    response = client.get("/healthz")
    assert "no-cache" in response["Cache-Control"]
