from typing import Any

from django.core.management.base import BaseCommand, CommandError

from consent.ledger import verify_chain, verify_states


class Command(BaseCommand):
    help = "Walk the consent ledger's hash chain and report the first altered or missing event."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_chain()
        if not result.intact:
            where = f"event #{result.first_bad_event_id}" if result.first_bad_event_id else "ledger"
            raise CommandError(
                f"Consent ledger is NOT intact: {where} {result.problem} "
                f"({result.verified} events verified before it)."
            )
        self.stdout.write(f"Consent ledger intact: {result.verified} events verified.")
        states = verify_states()
        if not states.intact:
            raise CommandError(f"Consent states do NOT match the ledger: {states.problem}.")
        self.stdout.write(f"Consent states match the ledger for all {states.checked} accounts.")
