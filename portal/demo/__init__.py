"""Demo data for Machi+: Aizuwakamatsu's areas, shelters and schools, and demo accounts.

The data files live in ``data/`` beside this package (sources in ``data/ATTRIBUTION.md``), so a
fresh clone can load the demo without anything outside the repository. ``loader.load_demo`` does
the work; ``manage.py load_demo`` is the command-line entry point.
"""
