"""``manage.py import_places``: a city's areas, GSI shelters and schools, from its own files."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portal.places.importers import PlaceDataError, UpsertCounts, import_places


class Command(BaseCommand):
    help = (
        "Import areas (JSON: municipalities → districts → neighbourhoods), the GSI's designated "
        "shelters and evacuation sites (a folder of GeoJSON files named emergency_*.geojson and "
        "evacuation_*.geojson) and schools (CSV). Idempotent; a bad file changes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--areas", type=Path, required=True, help="areas JSON file")
        parser.add_argument("--shelters", type=Path, help="folder of GSI GeoJSON files")
        parser.add_argument("--schools", type=Path, help="schools CSV file")
        parser.add_argument(
            "--shelter-names",
            type=Path,
            help="CSV of name_ja,name_en: English names of the sites (a school's name is used "
            "for the site of the same name without it)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = import_places(
                areas_path=options["areas"],
                shelters_dir=options["shelters"],
                schools_path=options["schools"],
                shelter_names_path=options["shelter_names"],
            )
        except PlaceDataError as exc:
            raise CommandError(f"Nothing imported: {exc}") from exc
        for label, counts in (
            ("areas", report.areas),
            ("shelters", report.shelters),
            ("schools", report.schools),
        ):
            self.stdout.write(f"  {label:<9} {describe(counts)}")
        for placement in report.coarse_placements:
            self.stdout.write(f"  placed coarsely: {placement}")


def describe(counts: UpsertCounts) -> str:
    return (
        f"{counts.total:>4}: {counts.created} created, {counts.updated} updated, "
        f"{counts.unchanged} unchanged"
    )
