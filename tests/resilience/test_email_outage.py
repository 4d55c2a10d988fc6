"""An email server outage does not fail the request that sends an email (portal/infra/mail.py):
the email waits for the worker, which sends it once the server is back."""

from __future__ import annotations

import socket

import pytest
from django.core import mail

from portal.infra.tasks import send_email
from portal.models import OutboxTask, User

pytestmark = pytest.mark.django_db

PASSWORD = "aizu-tsuruga-castle-1384"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mail_server_down(settings) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 1},
        }
    }


def sign_up(client):
    return client.post(
        "/accounts/signup/",
        {"email": "new@example.jp", "password1": PASSWORD, "password2": PASSWORD},
    )


def test_signing_up_while_the_mail_server_is_down_works_and_the_code_waits(
    client, mail_server_down, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    monkeypatch.setattr("portal.infra.task_outbox._send_now", lambda *args: None)
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert User.objects.filter(email="new@example.jp").exists()
    waiting = OutboxTask.objects.get(task_name="portal.send_email")
    assert waiting.kwargs["message"]["to"] == ["new@example.jp"]


def test_the_worker_sends_the_waiting_email_as_it_was_written(
    client, mail_server_down, django_capture_on_commit_callbacks, monkeypatch, settings
) -> None:
    monkeypatch.setattr("portal.infra.task_outbox._send_now", lambda *args: None)
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)
    waiting = OutboxTask.objects.get(task_name="portal.send_email")
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

    send_email.run(**waiting.kwargs)

    [sent] = mail.outbox
    assert sent.to == ["new@example.jp"]
    assert sent.subject == waiting.kwargs["message"]["subject"]
    assert sent.body == waiting.kwargs["message"]["body"]


def test_the_log_says_the_email_waits(
    client, mail_server_down, django_capture_on_commit_callbacks, monkeypatch, caplog
) -> None:
    monkeypatch.setattr("portal.infra.task_outbox._send_now", lambda *args: None)
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)

    assert "Email server unavailable (ConnectionRefusedError" in caplog.text
    assert "handed to the worker" in caplog.text
