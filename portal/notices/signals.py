"""The one hook for what residents can see of notices.

``notice_changed`` is sent by the worker (task ``notices.announce_change``, enqueued when the
transaction that changed the notice commits) with ``notice_id`` and ``change``: one of
``published``, ``superseded``, ``withdrawn``, ``expired``. The recommender and the notifications
subscribe to it; nothing in the notices app scores or sends.
"""

from __future__ import annotations

from django.dispatch import Signal

CHANGES = ("published", "superseded", "withdrawn", "expired")

notice_changed = Signal()
