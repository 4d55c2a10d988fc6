"""Signals of resident attribute writes."""

from django.dispatch import Signal

# Sent inside the transaction that changed a resident's stored attributes of some categories
# (a place added, a birth year set, a notice set aside…). Arguments: resident_id (int),
# categories (frozenset[str]). Receivers recompute what they derive (a personalised feed), on
# commit, and read the new values only through consent.policy.
profile_changed = Signal()
