"""Pure parsers: bytes in, ``portal.feeds.parsing.documents`` dataclasses out.

Nothing here touches the database, the network or the clock (times come from the documents);
``portal.feeds.services`` stores what they return through the notices services.
"""
