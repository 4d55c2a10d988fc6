"""Signals the consent app sends; receivers erase or recompute what depended on consent."""

from django.dispatch import Signal

# Sent inside the transaction that ended the last active consent for some categories of a
# resident. Arguments: resident_id (int), categories (frozenset[str]). Receivers must erase the
# attributes of those categories and purge anything derived from them.
categories_uncovered = Signal()

# Sent inside the transaction in which one purpose lost categories of one resident: withdrawn,
# expired, or refused (also when the resident refuses a new version of the terms). Sent even
# when another purpose still covers a category, since what this purpose derived from it (feeds,
# reasons, queued notifications) must go all the same. Arguments: resident_id (int), purpose
# (the purpose's code, str), categories (frozenset[str] of the codes it lost).
consent_narrowed = Signal()

# Sent inside the transaction in which a resident granted one purpose some categories (a new
# grant, a renewal or a re-consent). Arguments: resident_id (int), purpose (the purpose's code,
# str), categories (frozenset[str] of the codes granted). Receivers may recompute what the
# purpose derives (a personalised feed that may now use more), never read the attributes here.
consent_widened = Signal()
