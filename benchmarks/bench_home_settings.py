"""The site's production settings with one bare view beside it (benchmarks/bench_home.py)."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_home_urls"
