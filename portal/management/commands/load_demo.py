"""``manage.py load_demo``: Aizuwakamatsu's demo areas, shelters, schools and demo accounts."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.demo.loader import DEMO_ACCOUNTS, DEMO_TOTP_SECRET, DemoDataError, DemoReport, load_demo
from portal.feeds.models import AreaCode, Run, Source
from portal.management.commands.import_places import describe


class Command(BaseCommand):
    help = (
        "Load the Aizuwakamatsu demo data (areas, GSI shelters, schools) and demo accounts with "
        "published passwords. Idempotent. Refuses unless DEBUG is on or --allow-production."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run even though DEBUG is off. The demo accounts' passwords are public.",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="Print nothing unless something goes wrong."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo accounts' passwords and TOTP secret are published in the README, so they
        # must never appear on a real site by accident.
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "load_demo creates accounts whose passwords and TOTP secret are published. "
                "It runs only with DEBUG on (e.g. DEBUG=1 manage.py load_demo); pass "
                "--allow-production to load them into a site with DEBUG off anyway."
            )
        quiet = options["quiet"] or options["verbosity"] == 0
        if not settings.DEBUG and not quiet:
            self.stderr.write(
                self.style.WARNING(
                    "DEBUG is off: loading demo accounts with published passwords "
                    "(--allow-production)."
                )
            )

        started = time.monotonic()
        try:
            report = load_demo()
        except DemoDataError as exc:
            raise CommandError(f"Demo data not loaded, nothing changed: {exc}") from exc
        if not quiet:
            self._write_summary(report, time.monotonic() - started)

    def _write_summary(self, report: DemoReport, seconds: float) -> None:
        write = self.stdout.write
        write(self.style.SUCCESS(f"Demo data loaded in {seconds:.1f} s."))
        for label, counts in (
            ("areas", report.areas),
            ("shelters", report.shelters),
            ("schools", report.schools),
            ("accounts", report.accounts),
        ):
            write(f"  {label:<9} {describe(counts)}")
        write(f"  {'notices':<9} {report.notices} created")
        write(
            f"  {'feeds':<9} {AreaCode.objects.count()} area codes, "
            f"{Source.objects.count()} sources (disabled: the demo has no internet), "
            f"{Run.objects.count()} runs at /staff/feeds/"
        )
        if report.coarse_placements:
            write(
                f"  {len(report.coarse_placements)} place(s) whose address names no known "
                "neighbourhood were attached to their district or municipality:"
            )
            for placement in report.coarse_placements:
                write(f"    {placement}")

        write("")
        write(self.style.WARNING("Demo accounts (for demos only: these passwords are public)"))
        email_width = max(len(account.email) for account in DEMO_ACCOUNTS)
        password_width = max(len(account.password) for account in DEMO_ACCOUNTS)
        write(f"  {'email':<{email_width}}  {'password':<{password_width}}  role")
        for account in DEMO_ACCOUNTS:
            mfa = "  (TOTP)" if account.needs_mfa else ""
            write(
                f"  {account.email:<{email_width}}  {account.password:<{password_width}}  "
                f"{account.label}{mfa}"
            )
        write("")
        write(f"Staff accounts need a TOTP code. Shared demo secret: {DEMO_TOTP_SECRET}")
        write(f"  Get a code with:  oathtool --totp -b {DEMO_TOTP_SECRET}")
        write("  or add the secret to any authenticator app (30 s, 6 digits, SHA-1).")
        write("  Each account also has recovery codes, shown after sign-in under /accounts/2fa/.")
