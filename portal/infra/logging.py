"""Logging filters: the log should say clearly what went wrong, and stay quiet about what is
expected."""

from __future__ import annotations

import logging

# Answers that are routine refusals, not faults: Django logs them with the exception's traceback.
REFUSALS = frozenset({400, 401, 403, 404, 405})


class RefusalsWithoutTraceback(logging.Filter):
    """Keep django.request's line for a refused request ("Forbidden (Permission denied): /staff/"),
    drop its traceback: a resident opening a staff page is no error to investigate."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in REFUSALS:
            record.exc_info = None
            record.exc_text = None
        return True
