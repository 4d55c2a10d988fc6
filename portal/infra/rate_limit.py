"""A fixed-window counter in the shared cache: how many times a key was used this window."""

from __future__ import annotations

import math
import time

from django.core.cache import cache


def seconds_to_wait(key: str, *, limit: int, window: int) -> int:
    """Count one use of ``key``; 0 while at most ``limit`` uses fell in this ``window``
    seconds, else how many seconds until the next window opens."""
    now = time.time()
    current = int(now // window)
    counter = f"rate:{key}:{current}"
    cache.add(counter, 0, window + 5)
    try:
        used = cache.incr(counter)
    except ValueError:  # expired between add and incr
        cache.set(counter, 1, window + 5)
        used = 1
    if used <= limit:
        return 0
    return max(1, math.ceil((current + 1) * window - now))
