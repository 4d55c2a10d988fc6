"""``manage.py ingest_jmaxml FILE_OR_URL``: a JMA 防災情報XML document, or a JMA Atom feed
(extra.xml, eqvol.xml) listing them.

Prints what it created, updated and refused; exits non-zero when it refused anything.
"""

from portal.feeds.management.commands._ingest import IngestCommand
from portal.feeds.models import Kind


class Command(IngestCommand):
    help = "A JMA 防災情報XML document, or a JMA Atom feed (extra.xml, eqvol.xml) listing them."
    kind = Kind.JMA
