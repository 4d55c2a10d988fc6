"""Settings are read from the environment; these helpers turn variables into settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.infra.env import celery_broker_url, env_bool, mailers_from_url, resolve_redis_url


def test_smtp_url_maps_to_an_smtp_mailer_with_host_port_and_credentials() -> None:
    mailers = mailers_from_url("smtp://mailer:s%40cret@mail.example.jp:2525?timeout=7")
    default = mailers["default"]
    assert default["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert default["OPTIONS"] == {
        "host": "mail.example.jp",
        "port": 2525,
        "username": "mailer",
        "password": "s@cret",
        "use_tls": False,
        "use_ssl": False,
        "timeout": 7,
    }


def test_smtp_tls_and_smtps_urls_choose_starttls_or_implicit_tls_and_default_ports() -> None:
    starttls = mailers_from_url("smtp+tls://mail.example.jp")["default"]["OPTIONS"]
    implicit = mailers_from_url("smtps://mail.example.jp")["default"]["OPTIONS"]
    assert (starttls["port"], starttls["use_tls"], starttls["use_ssl"]) == (587, True, False)
    assert (implicit["port"], implicit["use_tls"], implicit["use_ssl"]) == (465, False, True)


def test_console_url_maps_to_the_console_mailer() -> None:
    assert mailers_from_url("console://")["default"]["BACKEND"].endswith("console.EmailBackend")


@pytest.mark.parametrize("url", ["ftp://mail.example.jp", "smtp://", "nonsense"])
def test_unsupported_email_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        mailers_from_url(url)


def test_boolean_variable_rejects_values_that_are_not_booleans(monkeypatch) -> None:
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be a boolean"):
        env_bool("DEBUG")


def test_relative_redis_socket_is_made_absolute_under_the_project() -> None:
    url = resolve_redis_url("unix://var/redis/redis.sock?db=0", Path("/srv/machiplus"))
    assert url == "unix:///srv/machiplus/var/redis/redis.sock?db=0"


def test_tcp_redis_url_is_kept_as_it_is() -> None:
    assert resolve_redis_url("redis://10.0.0.5:6379/2", Path("/x")) == "redis://10.0.0.5:6379/2"


def test_celery_gets_kombus_spelling_of_a_redis_socket() -> None:
    assert (
        celery_broker_url("unix:///srv/m/var/redis.sock?db=3")
        == "redis+socket:///srv/m/var/redis.sock?virtual_host=3"
    )
