"""gunicorn's settings for the site (the Procfile's ``web`` and benchmarks/bench_home.py).

Sync workers, one per core by default: a page is Python work and database round trips on the
same machine, so a third process on two cores only makes each page wait for a core
(benchmarks/bench_home.py on 2 cores: 2 processes served 48 pages/s at p95 47.5 ms, 3 processes
46 pages/s at p95 77.6 ms). ``WEB_CONCURRENCY`` sets the number where the database lives
elsewhere and processes wait on it more.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, os.cpu_count() or 1))
