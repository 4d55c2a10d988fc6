"""Print the current code of the demo TOTP secret, for trying staff pages without an app."""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.demo.loader import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current six-digit code for the demo staff accounts (DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--secret", default=DEMO_TOTP_SECRET, help="A base32 TOTP secret.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_totp_code is for development sites (DEBUG on) only.")
        period = mfa_settings.TOTP_PERIOD
        now = int(time.time())
        code = format_hotp_value(hotp_value(options["secret"], now // period))
        self.stdout.write(f"{code}  (valid for {period - now % period} more seconds)")
