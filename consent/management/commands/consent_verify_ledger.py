from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from consent.ledger import HeadMark, chain_reaches
from consent.services import ledger_verify


def head_mark(text: str) -> HeadMark:
    try:
        return HeadMark.parse(text)
    except ValueError as error:
        raise ArgumentTypeError(str(error)) from error


class Command(BaseCommand):
    help = (
        "Walk the consent ledger's hash chain, checking every event's signature, and report "
        "the first altered, unsigned or missing event; "
        "print its head, and check that the ledger still reaches a head recorded earlier."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--expect-head",
            metavar="HASH:COUNT",
            type=head_mark,
            help="A head printed or logged earlier: fail unless the ledger is that head or an "
            "extension of it (its COUNT-th event has HASH).",
        )

    def handle(self, *args: Any, expect_head: HeadMark | None = None, **options: Any) -> None:
        run = ledger_verify()  # recorded: the consent reports show the latest run
        if not run.chain_intact:
            raise CommandError(f"Consent ledger is NOT intact: {run.problem}.")
        head = HeadMark(run.head_hash, run.events_verified)
        self.stdout.write(f"Consent ledger intact: {run.events_verified} events verified.")
        self.stdout.write(f"Consent ledger head: {head}")
        if expect_head is not None:
            if not chain_reaches(expect_head):
                raise CommandError(
                    f"Consent ledger does NOT reach the expected head {expect_head}: events "
                    "were removed or replaced since."
                )
            self.stdout.write(f"Consent ledger reaches the expected head {expect_head}.")
        if not run.intact:
            raise CommandError(f"Consent states do NOT match the ledger: {run.problem}.")
        self.stdout.write(
            f"Consent states match the ledger for all {run.accounts_checked} accounts."
        )
        if not run.tallies_intact:
            raise CommandError(
                f"Weekly consent tallies do NOT match the ledger: {run.problem}. "
                "Rebuild them with consent_rebuild_tallies."
            )
        self.stdout.write("Weekly consent tallies match the ledger.")
