"""gunicorn's settings for the site (the Procfile's ``web`` and benchmarks/bench_home.py).

Sync workers, one per core this process may run on (at least 2, so one slow page does not hold
up the next): a page is Python work and database round trips on the same machine, so a third
process on two cores only makes each page wait for a core (benchmarks/bench_home.py on 2 cores:
2 processes served 48 pages/s at p95 47.5 ms, 3 processes 46 pages/s at p95 77.6 ms).
``WEB_CONCURRENCY`` sets the number where the database lives elsewhere and processes wait on it
more; mind PostgreSQL's connection limit (each process keeps a connection).
"""

import os


def _usable_cores() -> int:
    # The cores this process may run on (a container's limit), not every core of the host.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, _usable_cores()))
