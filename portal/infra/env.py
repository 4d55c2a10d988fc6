"""Reading configuration from the environment.

Every setting that differs between a developer's laptop and production is read here from
an environment variable, so one ``settings.py`` serves both (twelve-factor style).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

# Seconds an SMTP connection may wait unless EMAIL_URL says ?timeout=N.
SMTP_TIMEOUT = 5
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def mailers_from_url(url: str) -> dict[str, dict[str, Any]]:
    """Map an ``EMAIL_URL`` onto Django 6.1's ``MAILERS`` setting.

    Supported: ``console://``, ``locmem://``, ``dummy://``, ``file:///path``,
    ``smtp://user:pass@host:port`` (plain), ``smtp+tls://`` (STARTTLS) and
    ``smtps://`` (implicit TLS). ``?timeout=10`` sets the SMTP timeout in seconds (default 5).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    simple = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
    }
    if scheme in simple:
        return {"default": {"BACKEND": simple[scheme]}}
    if scheme == "file":
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "OPTIONS": {"file_path": unquote(parts.path)},
            }
        }
    if scheme in {"smtp", "smtp+tls", "smtps"}:
        if not parts.hostname:
            raise ImproperlyConfigured(f"EMAIL_URL {url!r} has no host")
        query = parse_qs(parts.query)
        options: dict[str, Any] = {
            "host": parts.hostname,
            "port": parts.port or {"smtp": 25, "smtp+tls": 587, "smtps": 465}[scheme],
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": scheme == "smtp+tls",
            "use_ssl": scheme == "smtps",
        }
        # A mail server that accepts connections and never answers must not hold a sign-up or a
        # login code for minutes: past the timeout the email waits for the worker instead.
        options["timeout"] = int(query["timeout"][0]) if "timeout" in query else SMTP_TIMEOUT
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": options,
            }
        }
    raise ImproperlyConfigured(
        f"EMAIL_URL scheme {scheme!r} is not supported "
        "(use smtp://, smtp+tls://, smtps://, console://, file://, locmem:// or dummy://)"
    )


def resolve_redis_url(url: str, base_dir: Path) -> str:
    """Make a relative ``unix://`` socket path absolute, so every process agrees on it."""
    parts = urlsplit(url)
    if parts.scheme != "unix":
        return url
    path = parts.netloc + parts.path
    absolute = Path(path) if Path(path).is_absolute() else base_dir / path
    query = f"?{parts.query}" if parts.query else ""
    return f"unix://{absolute}{query}"


def celery_broker_url(redis_url: str) -> str:
    """kombu names a Redis unix socket ``redis+socket://``; redis-py names it ``unix://``."""
    parts = urlsplit(redis_url)
    if parts.scheme != "unix":
        return redis_url
    query = parse_qs(parts.query)
    db = query.get("db", ["0"])[0]
    return f"redis+socket://{parts.path}?virtual_host={db}"


def unix_socket_path(redis_url: str) -> Path | None:
    parts = urlsplit(redis_url)
    return Path(parts.path) if parts.scheme == "unix" else None
