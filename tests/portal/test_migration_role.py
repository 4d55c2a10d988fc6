"""Migrations run as the role that owns the tables and the consent ledger's triggers
(DATABASE_MIGRATION_URL); the application role, which cannot drop a trigger, serves the rest."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def database_url_of_release(**environment: str) -> str:
    """The DATABASE_URL the Procfile's release command runs migrate with, in a real shell."""
    [release] = [line for line in PROCFILE.read_text().splitlines() if line.startswith("release:")]
    command = release.removeprefix("release:").strip()
    assert command.endswith(" python manage.py migrate --noinput"), command
    probe = command.replace("python manage.py migrate --noinput", "printenv DATABASE_URL")
    path = os.environ.get("PATH", "")
    result = subprocess.run(
        ["sh", "-c", probe],
        env={"PATH": path, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_release_migrates_with_the_migration_roles_database_url() -> None:
    assert (
        database_url_of_release(
            DATABASE_URL="postgres://machiplus_app@db/machiplus",
            DATABASE_MIGRATION_URL="postgres://machiplus_owner@db/machiplus",
        )
        == "postgres://machiplus_owner@db/machiplus"
    )


@pytest.mark.parametrize("migration_url", [None, ""])
def test_release_migrates_with_database_url_when_no_migration_role_is_set(migration_url) -> None:
    environment = {"DATABASE_URL": "postgres://machiplus@db/machiplus"}
    if migration_url is not None:
        environment["DATABASE_MIGRATION_URL"] = migration_url
    assert database_url_of_release(**environment) == "postgres://machiplus@db/machiplus"
