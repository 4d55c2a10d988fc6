from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest

from portal.infra.mail import send_now_or_later
from portal.infra.sites import on_site_url


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(getattr(settings, "ACCOUNT_ALLOW_SIGNUPS", True))

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Every allauth email passes here: its links are moved onto SITE_URL.

        allauth builds them (verification, password reset, sign-up) from the host and scheme of
        the request that caused the email, which behind a proxy or on another name than the
        site's own is not the address residents should keep.
        """
        request: HttpRequest | None = allauth_context.request
        if request is not None:
            host = request.get_host()
            context = {
                key: on_site_url(value, request_host=host) if isinstance(value, str) else value
                for key, value in context.items()
            }
        # allauth's own send_mail, except that an email server outage defers the email
        # (portal/infra/mail.py) instead of failing the sign-up, login or reset that asked for it.
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        send_now_or_later(self.render_mail(template_prefix, email, ctx))
