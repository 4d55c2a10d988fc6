"""`make run` is lean and serves the site on the URL its links name; `make test` brings the tools.

Read from `make --dry-run`, which prints what a fresh clone would run without running it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def dry_run(*arguments: str, **environment: str) -> str:
    """What `make` would run in a fresh clone: a virtualenv that does not exist yet."""
    env = {
        name: value
        for name, value in os.environ.items()
        # A surrounding `make test PORT=…` passes its variables down through MAKEFLAGS.
        if name not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PORT", "SITE_URL", "VENV"}
    }
    fresh_venv = f"var/no-such-venv-{uuid.uuid4().hex}"
    result = subprocess.run(
        ["make", "--dry-run", *arguments, f"VENV={fresh_venv}"],
        cwd=PROJECT,
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def pip_installs(commands: str) -> list[str]:
    return [line for line in commands.splitlines() if " -m pip install " in line]


def test_make_run_installs_the_runtime_dependencies_only() -> None:
    installs = pip_installs(dry_run("run"))
    assert any(line.endswith("-c requirements.lock -e .") for line in installs)
    assert not any("[dev]" in line for line in installs)


def test_make_test_installs_the_locked_dev_tools() -> None:
    installs = pip_installs(dry_run("test"))
    assert any(line.endswith('-c requirements.lock -e ".[dev]"') for line in installs)


def test_make_run_on_another_port_sets_site_url_to_that_port() -> None:
    assert "SITE_URL=http://127.0.0.1:8080 " in dry_run("run", "PORT=8080")


def test_make_run_keeps_a_site_url_that_is_already_set() -> None:
    commands = dry_run("run", "PORT=8080", SITE_URL="https://machi.example.jp")
    assert "SITE_URL=https://machi.example.jp " in commands
