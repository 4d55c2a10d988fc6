"""The log says what went wrong once, and stays quiet about what is expected."""

from __future__ import annotations

import logging
import sys

import pytest
from django.db import OperationalError, connections

from portal.infra.logging import RefusalsWithoutTraceback
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def record_with_traceback(status_code: int) -> logging.LogRecord:
    try:
        raise PermissionError("refused")
    except PermissionError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Forbidden: /staff/", (), exc_info
    )
    record.status_code = status_code
    return record


def test_a_refused_request_is_logged_without_its_traceback() -> None:
    record = record_with_traceback(403)

    assert RefusalsWithoutTraceback().filter(record)

    assert record.exc_info is None
    assert "Forbidden" in record.getMessage()


def test_a_server_error_keeps_its_traceback() -> None:
    record = record_with_traceback(500)

    RefusalsWithoutTraceback().filter(record)

    assert record.exc_info is not None


def test_django_logs_through_the_root_handler_only_so_each_line_is_written_once() -> None:
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django").propagate


def test_a_resident_refused_a_staff_page_is_one_warning(client, caplog) -> None:
    client.force_login(UserFactory.create())

    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/staff/").status_code == 403

    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.WARNING


def test_a_down_healthz_is_not_logged_as_a_server_error(client, caplog, monkeypatch) -> None:
    def refused(*args: object, **kwargs: object) -> object:
        raise OperationalError("connection refused")

    # On the class: /healthz asks the database from a thread of its own.
    monkeypatch.setattr(type(connections["default"]), "cursor", refused)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/healthz").status_code == 503

    assert not [r for r in caplog.records if r.name == "django.request"]
