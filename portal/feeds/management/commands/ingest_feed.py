"""``manage.py ingest_feed FILE_OR_URL``: An RSS or Atom news feed: its entries become city news.

Prints what it created, updated and refused; exits non-zero when it refused anything.
"""

from portal.feeds.management.commands._ingest import IngestCommand
from portal.feeds.models import Kind


class Command(IngestCommand):
    help = "An RSS or Atom news feed: its entries become city news."
    kind = Kind.RSS
