"""Signals the consent app sends; receivers erase or recompute what depended on consent."""

from django.dispatch import Signal

# Sent inside the transaction that ended the last active consent for some categories of a
# resident. Arguments: resident_id (int), categories (frozenset[str]). Receivers must erase the
# attributes of those categories and purge anything derived from them.
categories_uncovered = Signal()
