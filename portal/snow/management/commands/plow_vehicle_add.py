"""``manage.py plow_vehicle_add NAME [--operator …] [--kind plow]``: register a vehicle and
print its bearer token (shown once; only its hash is kept)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.snow.models import Vehicle
from portal.snow.services import VehicleNameTaken, token_issue, vehicle_add


class Command(BaseCommand):
    help = "Register a plow vehicle and print the token its device posts positions with."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--operator", default="", help="the company operating it")
        parser.add_argument("--kind", default=Vehicle.Kind.PLOW, choices=Vehicle.Kind.values)

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError("A vehicle needs a name.")
        if Vehicle.objects.filter(name=name).exists():
            raise CommandError(f"A vehicle named {name!r} is registered already.")
        try:
            vehicle = vehicle_add(name=name, operator=options["operator"], kind=options["kind"])
        except VehicleNameTaken:
            raise CommandError(f"A vehicle named {name!r} is registered already.") from None
        token = token_issue(vehicle_id=vehicle.pk)
        self.stdout.write(f"Vehicle #{vehicle.pk} {vehicle.name} registered. Its token:")
        self.stdout.write(token)
        self.stderr.write("It is shown this once: only its hash is kept.")
