"""Display preferences remembered per browser in a cookie (no account needed)."""

from __future__ import annotations

from enum import StrEnum

TEXT_SIZE_COOKIE = "machiplus_text_size"
TEXT_SIZE_COOKIE_MAX_AGE = 365 * 24 * 60 * 60


class TextSize(StrEnum):
    NORMAL = "normal"
    LARGE = "large"

    @classmethod
    def from_cookie(cls, value: str | None) -> TextSize:
        try:
            return cls(value or cls.NORMAL)
        except ValueError:
            return cls.NORMAL

    def toggled(self) -> TextSize:
        return TextSize.NORMAL if self is TextSize.LARGE else TextSize.LARGE
