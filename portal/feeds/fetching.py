"""Fetching a feed: conditional GET, a timeout, a size limit, and nothing but http(s).

``fetch`` never raises anything but ``FetchFailed``, whose reason goes into the run record.
"""

from __future__ import annotations

import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

# Redirects are followed, a few, within the same host: a feed moved to https or to a new path.
MAX_REDIRECTS = 3
# Not httpx's is_redirect, which counts 304 Not Modified as one.
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchFailed(Exception):
    def __init__(self, reason: str, *, http_status: int | None = None) -> None:
        self.reason = reason
        self.http_status = http_status
        super().__init__(reason)


@dataclass(frozen=True)
class Fetched:
    # None: the server said 304 Not Modified.
    body: bytes | None
    http_status: int
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""

    @property
    def not_modified(self) -> bool:
        return self.body is None


def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    client: httpx.Client | None = None,
    max_bytes: int | None = None,
) -> Fetched:
    """GET ``url``; 304 when the server says nothing changed since ``etag``/``last_modified``.

    Redirects are followed only within the same host (http to https allowed), so a feed cannot
    send the worker to an address inside the city's network."""
    max_bytes = max_bytes or settings.FEEDS_MAX_DOCUMENT_BYTES
    _check_scheme(url)
    headers = {"User-Agent": settings.FEEDS_USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    client = client or shared_client()
    deadline = time.monotonic() + 3 * settings.FEEDS_FETCH_TIMEOUT
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            with client.stream("GET", url, headers=headers) as response:
                if response.status_code in REDIRECTS:
                    url = _same_host_redirect(url, response)
                    continue
                return _answer(response, etag, last_modified, max_bytes, deadline)
    except httpx.TimeoutException:
        raise FetchFailed(f"no answer within {settings.FEEDS_FETCH_TIMEOUT:g} s") from None
    except httpx.HTTPError as error:
        raise FetchFailed(f"could not fetch: {type(error).__name__}: {error}"[:300]) from None
    raise FetchFailed(f"more than {MAX_REDIRECTS} redirects")


def same_host(url: str, other: str) -> bool:
    return urlsplit(url).hostname == urlsplit(other).hostname


def _check_scheme(url: str) -> None:
    if urlsplit(url).scheme not in {"http", "https"}:
        raise FetchFailed(f"only http and https URLs are fetched: {url[:100]}")


def _same_host_redirect(url: str, response: httpx.Response) -> str:
    target = str(response.url.join(response.headers.get("Location", "")))
    _check_scheme(target)
    if not same_host(url, target):
        raise FetchFailed(f"redirected to another host, not followed: {target[:100]}")
    return target


def _answer(
    response: httpx.Response, etag: str, last_modified: str, max_bytes: int, deadline: float
) -> Fetched:
    if response.status_code == 304:
        return Fetched(None, 304, etag=etag, last_modified=last_modified)
    if response.status_code != 200:
        raise FetchFailed(
            f"the server answered HTTP {response.status_code}", http_status=response.status_code
        )
    body = _read_limited(response, max_bytes, deadline)
    return Fetched(
        body,
        200,
        etag=response.headers.get("ETag", "")[:500],
        last_modified=response.headers.get("Last-Modified", "")[:100],
        content_type=response.headers.get("Content-Type", ""),
    )


def new_client() -> httpx.Client:
    return httpx.Client(
        timeout=settings.FEEDS_FETCH_TIMEOUT,
        # fetch() follows redirects itself, to the same host only.
        follow_redirects=False,
    )


def shared_client() -> httpx.Client:
    """The process's client: building one costs tens of milliseconds (its TLS context), more
    than a 304 answer. One per process and per timeout, created after the worker forked."""
    key = (os.getpid(), settings.FEEDS_FETCH_TIMEOUT)
    client = _clients.get(key)
    if client is None or client.is_closed:
        client = _clients[key] = new_client()
    return client


_clients: dict[tuple[int, float], httpx.Client] = {}


def read_file(path: str, *, max_bytes: int | None = None) -> bytes:
    """A document from disk, for the ``ingest_*`` commands; the same limit as the network."""
    max_bytes = max_bytes or settings.FEEDS_MAX_DOCUMENT_BYTES
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > max_bytes:
            raise FetchFailed(f"document too large: {size} bytes (limit {max_bytes})")
        return file.read_bytes()
    except OSError as error:
        raise FetchFailed(f"cannot read {path}: {error.strerror}") from None


def _read_limited(response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    """The body, decompressed here rather than by httpx, so that the limit bounds what is held
    in memory: a gzip bomb (or gzip inside gzip) is stopped within the limit, not after."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchFailed(f"document too large: {declared} bytes (limit {max_bytes})")
    inflate = _decompressor(response.headers.get("Content-Encoding", ""))
    chunks: list[bytes] = []
    size = 0
    for raw in response.iter_raw():
        pending = raw
        while pending:
            if inflate is None:
                chunk, pending = pending, b""
            else:
                # At most one byte over the limit per call: enough to know it was passed.
                chunk = inflate.decompress(pending, max_bytes - size + 1)
                pending = inflate.unconsumed_tail
            size += len(chunk)
            if size > max_bytes:
                raise FetchFailed(f"document larger than the limit of {max_bytes} bytes")
            chunks.append(chunk)
        # The timeout is per read: a server dribbling a byte at a time would never time out.
        if time.monotonic() > deadline:
            raise FetchFailed("the document took too long to arrive")
    return b"".join(chunks)


def _decompressor(content_encoding: str) -> Any:
    encoding = content_encoding.strip().lower()
    if encoding in {"", "identity"}:
        return None
    if encoding in {"gzip", "x-gzip", "deflate"}:
        # 32 + MAX_WBITS reads a gzip or a zlib header, whichever the server sent.
        return zlib.decompressobj(32 + zlib.MAX_WBITS)
    raise FetchFailed(f"unsupported Content-Encoding: {content_encoding[:40]}")
