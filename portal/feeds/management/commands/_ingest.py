"""What the three ``ingest_*`` commands share: a file or a URL in, the run's outcome out."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.feeds.services import ingest_location, outcome_lines


class IngestCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("location", metavar="FILE_OR_URL", help="a file, or an http(s) URL")

    def handle(self, *args: Any, **options: Any) -> None:
        run = ingest_location(kind=self.kind, location=options["location"])
        for note in run.notes:
            self.stdout.write(note)
        lines = list(outcome_lines(run))
        self.stdout.write(lines[0])
        for line in lines[1:]:
            self.stderr.write(line)
        if run.rejected:
            raise CommandError(f"refused {run.rejected} (run #{run.pk}): see the lines above")
        if run.skipped:
            raise CommandError(
                f"skipped {run.skipped} as not for this portal (run #{run.pk}): see above"
            )
