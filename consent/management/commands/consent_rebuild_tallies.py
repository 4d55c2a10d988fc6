from typing import Any

from django.core.management.base import BaseCommand

from consent.reports.tallies import rebuild_tallies


class Command(BaseCommand):
    help = (
        "Rebuild the weekly consent tallies (the reports' trends) from the consent ledger, "
        "after consent_verify_ledger found them different from it."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = rebuild_tallies()
        self.stdout.write(f"Weekly consent tallies rebuilt from the ledger: {rows} rows.")
