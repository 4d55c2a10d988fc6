"""Paper-form references: PREFIX-SERIAL-CHECK, e.g. ``AIZU-000042-3``.

The check digit (Luhn, over the serial) catches the usual typing slips — one wrong digit, two
neighbours swapped — so a mistyped reference is refused instead of using up another form.
Pure functions: no database.
"""

from __future__ import annotations

import re
import unicodedata

SERIAL_DIGITS = 6
_SHAPE = re.compile(r"^(?P<prefix>[A-Z][A-Z0-9]{0,11})-(?P<serial>\d{6})-(?P<check>\d)$")


def luhn_check_digit(digits: str) -> int:
    """The digit that makes ``digits`` + it pass the Luhn test."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: these sit at odd positions once the check is appended
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def format_reference(prefix: str, serial: int) -> str:
    digits = f"{serial:0{SERIAL_DIGITS}d}"
    return f"{prefix}-{digits}-{luhn_check_digit(digits)}"


def normalise_reference(text: str) -> str:
    """As typed at a Japanese counter: full-width characters, spaces, lower case, dashes."""
    folded = unicodedata.normalize("NFKC", text).upper()
    folded = re.sub(r"[\s]+", "", folded)
    return re.sub(r"[‐‑‒–—―ー−]", "-", folded)


def parse_reference(text: str, *, prefix: str) -> str | None:
    """The reference in its printed form, or None if it cannot be one of ours."""
    reference = normalise_reference(text)
    match = _SHAPE.match(reference)
    if match is None or match["prefix"] != prefix:
        return None
    if luhn_check_digit(match["serial"]) != int(match["check"]):
        return None
    return reference
