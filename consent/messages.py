"""What a consent change did, in sentences for the resident (or the counter clerk), each
flashed at its django.contrib.messages level after the change."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from consent.models import (
    ConsentTerms,
    CounterDispute,
    DataCategory,
    PaperForm,
    PaperFormBatch,
    Purpose,
)
from consent.references import format_reference
from consent.selectors import data_categories, purposes_by_code

if TYPE_CHECKING:
    from consent.flows import CategoryChoice
    from consent.services import WithdrawalOutcome


@dataclass(frozen=True)
class FlashMessage:
    """One sentence to flash after a change, at its django.contrib.messages level."""

    level: int
    text: str


def setup_step_messages(
    category: DataCategory, *, shared: Sequence[ConsentTerms], refused: Sequence[ConsentTerms]
) -> list[FlashMessage]:
    flashes = []
    if shared:
        flashes.append(
            FlashMessage(
                messages.SUCCESS,
                _("Your %(category)s will be used for: %(purposes)s.")
                % {"category": _quoted([category.name]), "purposes": _quoted(_names(shared))},
            )
        )
    if refused:
        flashes.append(
            FlashMessage(
                messages.INFO,
                _("Your %(category)s will not be used for: %(purposes)s.")
                % {"category": _quoted([category.name]), "purposes": _quoted(_names(refused))},
            )
        )
    return flashes


def purpose_choice_messages(
    terms: ConsentTerms, choice: CategoryChoice, outcome: WithdrawalOutcome
) -> list[FlashMessage]:
    flashes = []
    if choice.to_grant:
        flashes.append(
            FlashMessage(
                messages.SUCCESS,
                _("%(purpose)s now uses your %(categories)s.")
                % {
                    "purpose": _quoted([terms.purpose.name]),
                    "categories": _quoted(_category_names(choice.to_grant)),
                },
            )
        )
    if choice.to_withdraw:
        flashes += [FlashMessage(messages.SUCCESS, text) for text in withdrawal_sentences(outcome)]
    if not choice.to_grant and not choice.to_withdraw:
        flashes.append(FlashMessage(messages.INFO, _("Nothing changed.")))
    return flashes


def purpose_withdrawal_messages(outcome: WithdrawalOutcome, purpose: Purpose) -> list[FlashMessage]:
    return _withdrawal_flash(
        outcome,
        nothing=_("You had no active consent for %(purpose)s: nothing was withdrawn.")
        % {"purpose": _quoted([purpose.name])},
    )


def category_withdrawal_messages(
    outcome: WithdrawalOutcome, category: DataCategory
) -> list[FlashMessage]:
    return _withdrawal_flash(
        outcome,
        nothing=_("No purpose was using your %(category)s: nothing was withdrawn.")
        % {"category": _quoted([category.name])},
    )


def _withdrawal_flash(outcome: WithdrawalOutcome, *, nothing: str) -> list[FlashMessage]:
    """Tell the resident exactly what a withdrawal did: ended, deleted, kept and why."""
    return [
        FlashMessage(messages.SUCCESS, text) for text in withdrawal_sentences(outcome) or [nothing]
    ]


def withdrawal_sentences(outcome: WithdrawalOutcome) -> list[str]:
    """One sentence per fact: what ended, what was deleted, what was kept and for whom."""
    if not outcome.withdrawn:
        return []
    purposes = {code: purpose.name for code, purpose in purposes_by_code().items()}
    by_purpose: dict[str, list[str]] = defaultdict(list)
    for purpose_code, category_code in outcome.withdrawn:
        by_purpose[purpose_code].append(category_code)
    lines = [
        _("Withdrawn: %(purpose)s no longer uses your %(categories)s.")
        % {
            "purpose": _quoted([purposes.get(code, code)]),
            "categories": _quoted(_category_names(codes)),
        }
        for code, codes in by_purpose.items()
    ]
    if outcome.erased:
        lines.append(
            _("Deleted: your %(categories)s, because no purpose uses them any more.")
            % {"categories": _quoted(_category_names(outcome.erased))}
        )
    for category_code, still in sorted(outcome.kept.items()):
        lines.append(
            ngettext(
                "Kept: your %(category)s, because %(purposes)s still uses them.",
                "Kept: your %(category)s, because %(purposes)s still use them.",
                len(still),
            )
            % {
                "category": _quoted(_category_names([category_code])),
                "purposes": _quoted([purposes.get(code, code) for code in still]),
            }
        )
    return lines


def counter_messages(*, paper_form: PaperForm) -> list[FlashMessage]:
    """The same answer whether or not the address is a verified resident's (see flows)."""
    return [
        FlashMessage(
            messages.SUCCESS,
            _(
                "Paper form %(reference)s is now used. If the address on it is a resident's "
                "verified Machi+ address, the request is recorded and the resident is emailed a "
                "link to the receipt; if it is not, nothing is recorded and the address is told "
                "so. Ask the resident to check their email."
            )
            % {"reference": paper_form.reference},
        )
    ]


def batch_issued_message(batch: PaperFormBatch) -> FlashMessage:
    return FlashMessage(
        messages.SUCCESS,
        _("Batch %(number)s issued to %(to)s: %(first)s to %(last)s.")
        % {
            "number": batch.number,
            "to": batch.issued_to,
            "first": format_reference(settings.PAPER_FORM_PREFIX, batch.first_serial),
            "last": format_reference(settings.PAPER_FORM_PREFIX, batch.last_serial),
        },
    )


def form_voided_message(paper_form: PaperForm) -> FlashMessage:
    return FlashMessage(
        messages.SUCCESS,
        _("%(reference)s is voided and can no longer be used.")
        % {"reference": paper_form.reference},
    )


def dispute_resolved_message(dispute: CounterDispute) -> FlashMessage:
    return FlashMessage(
        messages.SUCCESS,
        _("The dispute about %(reference)s is resolved.")
        % {"reference": dispute.paper_form.reference},
    )


def dispute_messages(dispute: CounterDispute) -> list[FlashMessage]:
    flashes = [
        FlashMessage(
            messages.SUCCESS,
            _(
                "Thank you. A consent officer of the city will look at paper form %(reference)s "
                "and answer you by email."
            )
            % {"reference": dispute.paper_form.reference},
        )
    ]
    if dispute.withdrawn_category_codes:
        names = [c.name for c in data_categories(codes=dispute.withdrawn_category_codes)]
        flashes.append(
            FlashMessage(
                messages.INFO,
                _("What the form gave consent for has stopped: %(categories)s.")
                % {"categories": _quoted(names)},
            )
        )
    return flashes


def _quoted(names: Iterable[str]) -> str:
    # Quotation marks and list separators differ between Japanese (「」、) and English.
    return _(", ").join(_("“%(name)s”") % {"name": name} for name in names)


def _names(terms: Iterable[ConsentTerms]) -> list[str]:
    return [t.purpose.name for t in terms]


def _category_names(codes: Iterable[str]) -> list[str]:
    return [c.name for c in data_categories(codes=codes)]
