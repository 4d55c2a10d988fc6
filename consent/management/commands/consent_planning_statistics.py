from typing import Any

from django.core.management.base import BaseCommand

from consent.reports.statistics import planning_statistics_compute


class Command(BaseCommand):
    help = (
        "Count residents by home area and age band through the consent gate, under the purpose "
        "'anonymous statistics for city planning', for the consent reports (as the nightly task "
        "consent.count_planning_statistics does)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = planning_statistics_compute()
        self.stdout.write(
            f"Anonymous statistics counted: {run.residents_read} of {run.registered} registered "
            "residents let the city use their home area or age band."
        )
