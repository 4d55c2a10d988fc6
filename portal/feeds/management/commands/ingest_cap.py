"""``manage.py ingest_cap FILE_OR_URL``: A CAP 1.2 (or 1.1) alert.

Prints what it created, updated and refused; exits non-zero when it refused anything.
"""

from portal.feeds.management.commands._ingest import IngestCommand
from portal.feeds.models import Kind


class Command(IngestCommand):
    help = "A CAP 1.2 (or 1.1) alert."
    kind = Kind.CAP
