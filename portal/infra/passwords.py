"""Password validators beyond Django's own (AUTH_PASSWORD_VALIDATORS; allauth uses them for
sign-up, password change and reset).

- ``CommonPasswordValidator``: Django's validator with a list about twice its own (40,101
  passwords: Django's list and zxcvbn's, see scripts/build_common_passwords.py for provenance
  and licences), shipped in portal/infra/data/ so that no check leaves the machine.
- ``RepetitionValidator``: passwords long enough for the minimum length only by repeating a
  short piece (``aaaaaaaaaaaa``, ``abcabcabcabc``) or running along the alphabet or the digits
  (``abcdefghijkl``), which no list can hold every case of.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from django.contrib.auth import password_validation
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"
# At most this many different characters is a repetition too (aaaaaaaaaaab, 121212121213).
FEWEST_DISTINCT_CHARACTERS = 4
_REPEATED_PIECE = re.compile(r"(.+?)\1+", re.DOTALL)


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    """Django's check (case-insensitive, whole password) against the portal's longer list."""

    def __init__(self, password_list_path: Path | str = COMMON_PASSWORDS) -> None:
        super().__init__(password_list_path=password_list_path)


class RepetitionValidator:
    def validate(self, password: str, user: AbstractBaseUser | None = None) -> None:
        if is_trivial_repetition(password):
            raise ValidationError(self._message(), code="password_repetitive")

    def get_help_text(self) -> str:
        return _("Your password can't be one character or piece repeated, or a plain sequence.")

    def _message(self) -> str:
        return _("This password only repeats characters or runs along a sequence.")


def is_trivial_repetition(password: str) -> bool:
    folded = password.casefold()
    if len(set(folded)) < FEWEST_DISTINCT_CHARACTERS:
        return True
    return bool(_REPEATED_PIECE.fullmatch(folded)) or _is_sequence(folded)


def _is_sequence(text: str) -> bool:
    """abcdefghijkl, lkjihgfedcba, 789012345678: each character one step from the last."""
    steps = {_step(a, b) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})


def _step(a: str, b: str) -> int:
    if a.isdigit() and b.isdigit():
        # Digits run round: 9 → 0 is one step up, 0 → 9 one step down.
        return {1: 1, 9: -1}.get((int(b) - int(a)) % 10, 0)
    return ord(b) - ord(a)
