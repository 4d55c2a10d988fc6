"""Paper-form references: printed with a check digit, read back however they are typed."""

from __future__ import annotations

import pytest

from consent.references import format_reference, parse_reference


def test_a_reference_is_prefix_serial_and_check_digit() -> None:
    assert format_reference("AIZU", 42) == "AIZU-000042-2"


def test_a_reference_typed_in_full_width_lower_case_with_spaces_is_read() -> None:
    assert parse_reference(" ａｉｚｕ－０００ ０４２－２ ", prefix="AIZU") == "AIZU-000042-2"


@pytest.mark.parametrize(
    "typed",
    [
        "AIZU-000043-2",  # one digit wrong
        "AIZU-000024-2",  # two digits swapped
        "AIZU-000042-4",  # wrong check digit
        "MP-000042-2",  # another city's prefix
        "AIZU-42",  # not the printed shape
        "",
    ],
)
def test_a_mistyped_reference_is_not_read(typed: str) -> None:
    assert parse_reference(typed, prefix="AIZU") is None


def test_every_serial_of_a_batch_round_trips() -> None:
    for serial in range(1, 2001):
        reference = format_reference("MP", serial)
        assert parse_reference(reference, prefix="MP") == reference
