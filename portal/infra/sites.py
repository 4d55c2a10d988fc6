"""The site's name and address as the sites framework knows them: the Site row, from settings.

allauth greets residents in every email with the current Site's name and signs off with its
domain; without the sites framework both would be the host of the request (``127.0.0.1:8000``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS


def sync_site(*, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """After every migrate: the current Site is named SITE_NAME and has SITE_URL's host."""
    from django.contrib.sites.management import create_default_site
    from django.contrib.sites.models import Site

    # post_migrate may reach this handler before the sites app has created its row.
    create_default_site(apps.get_app_config("sites"), verbosity=0, using=using)
    site = Site.objects.using(using).get(pk=settings.SITE_ID)
    wanted = {"name": settings.SITE_NAME, "domain": urlsplit(settings.SITE_URL).netloc}
    changed = [field for field, value in wanted.items() if getattr(site, field) != value]
    for field in changed:
        setattr(site, field, wanted[field])
    if changed:
        # save(), not update(): saving a Site clears the sites framework's per-process cache.
        site.save(using=using, update_fields=changed)


def on_site_url(url: str, *, request_host: str) -> str:
    """``url`` moved onto SITE_URL's scheme and host, if it points at the host of the request.

    Links to other hosts are left alone.
    """
    parts = urlsplit(url)
    if parts.netloc != request_host:
        return url
    site = urlsplit(settings.SITE_URL)
    return urlunsplit((site.scheme, site.netloc, parts.path, parts.query, parts.fragment))
