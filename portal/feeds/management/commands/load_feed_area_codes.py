"""``manage.py load_feed_area_codes``: map JMA and CAP area codes to the portal's areas."""

from typing import Any

from django.core.management.base import BaseCommand

from portal.feeds.area_codes import area_codes_load


class Command(BaseCommand):
    help = "Map the JMA and CAP codes of the portal's municipalities (and the 会津 regions)."

    def handle(self, *args: Any, **options: Any) -> None:
        written = area_codes_load()
        self.stdout.write(f"{written} area codes added (codes already in the table are kept)")
