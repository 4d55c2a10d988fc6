"""The production settings documented in README.md pass Django's deployment checklist."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION_ENVIRONMENT = {
    "DEBUG": "0",
    "SECRET_KEY": "k3v9-Q2xP!m8Zr4#tL6wY1nB7cD0fH5jS2aE9uI3oG8pR6sT4vW1xZ7yQ0eK5lM2",
    "LEDGER_SIGNING_KEY": "Lg7#pV2q-X9mW4rT!k8zB1nC6yH3dF0sJ5aU2eQ7iO4pM9gR1tS8vZ3xE6wK0lN5",
    "ALLOWED_HOSTS": "machi.example.jp",
    "SITE_URL": "https://machi.example.jp",
    "DATABASE_URL": "postgres://machiplus:secret@db.internal:5432/machiplus",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.jp:587",
    "BEHIND_PROXY": "1",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "CONTACT_EMAIL": "kojin-joho@city.example-city.lg.jp",
    "OPERATOR_NAME_JA": "株式会社まちデータ",
    "OPERATOR_NAME_EN": "Machi Data Co., Ltd.",
}


def run_manage(*args: str, extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Only the environment a test gives decides the ledger's signing key.
    skipped = ("DJANGO_", "DEBUG", "LEDGER_SIGNING_KEY")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skipped)}
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_with_the_documented_production_environment() -> None:
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", extra_env=PRODUCTION_ENVIRONMENT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_warns_while_the_contact_point_and_operator_are_the_demos() -> None:
    demo = {"CONTACT_EMAIL", "OPERATOR_NAME_JA", "OPERATOR_NAME_EN"}
    environment = {k: v for k, v in PRODUCTION_ENVIRONMENT.items() if k not in demo}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", extra_env=environment)
    assert result.returncode != 0
    assert "portal.W101" in result.stderr + result.stdout
    assert "portal.W102" in result.stderr + result.stdout


def test_deploy_check_warns_while_the_ledger_signing_key_is_derived_from_secret_key() -> None:
    environment = {k: v for k, v in PRODUCTION_ENVIRONMENT.items() if k != "LEDGER_SIGNING_KEY"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", extra_env=environment)
    assert result.returncode != 0
    assert "consent.W001" in result.stderr + result.stdout


def test_site_refuses_to_start_without_a_secret_key_when_debug_is_off() -> None:
    environment = {**PRODUCTION_ENVIRONMENT, "SECRET_KEY": ""}
    result = run_manage("check", extra_env=environment)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    "name", ["HOME_URGENT_POLL_SECONDS", "RECOMMENDER_RESCORE_MINUTES", "RECOMMENDER_RANGE_SIZE"]
)
def test_site_refuses_to_start_with_an_interval_or_size_below_one(name: str) -> None:
    result = run_manage("check", extra_env={**PRODUCTION_ENVIRONMENT, name: "0"})
    assert result.returncode != 0
    assert f"{name} must be at least 1" in result.stderr


def test_deploy_check_refuses_private_addresses_for_notifications() -> None:
    environment = {**PRODUCTION_ENVIRONMENT, "NOTIFY_ALLOW_PRIVATE_ADDRESSES": "1"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", extra_env=environment)
    assert result.returncode != 0
    assert "notifications.E001" in result.stderr + result.stdout


def test_deploy_check_warns_while_push_has_the_default_vapid_subject() -> None:
    from portal.management.commands.generate_vapid_keys import generate_vapid_keys

    public, private = generate_vapid_keys()
    keys = {"VAPID_PUBLIC_KEY": public, "VAPID_PRIVATE_KEY": private}
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        extra_env={**PRODUCTION_ENVIRONMENT, **keys},
    )  # fmt: skip
    assert "notifications.W001" in result.stderr + result.stdout
    subject = {**keys, "VAPID_SUBJECT": "mailto:bousai@city.example-city.lg.jp"}
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        extra_env={**PRODUCTION_ENVIRONMENT, **subject},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_refuses_vapid_keys_that_are_not_a_pair() -> None:
    from portal.management.commands.generate_vapid_keys import generate_vapid_keys

    keys = {
        "VAPID_PUBLIC_KEY": generate_vapid_keys()[0],
        "VAPID_PRIVATE_KEY": generate_vapid_keys()[1],
        "VAPID_SUBJECT": "mailto:bousai@city.example-city.lg.jp",
    }
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        extra_env={**PRODUCTION_ENVIRONMENT, **keys},
    )  # fmt: skip
    assert "notifications.E003" in result.stderr + result.stdout
