"""A messaging gateway (a LINE official-account bridge, or any other): the message's JSON
(``Message.as_json``), POSTed to the resident's ``WebhookEndpoint`` and signed with its secret
(``portal.notifications.webhooks``).

Safe against server-side request forgery: the address is checked again at each send, its name
resolved then and every address it resolves to must be public; the request goes to the address
just checked (the URL's host replaced by it, ``Host`` set to the name, TLS told the name by
``sni_hostname`` so that the certificate is still verified against the name), so that a name
resolving elsewhere a moment later (DNS rebinding) changes nothing. Redirects are never
followed: a 3xx is the gateway's mistake (``Gone``). Proxies named by the environment are not
used (they would connect to whatever the name resolves to there).

The gateway's answer: 2xx is ``Sent`` (with the id it gave, ``X-Message-Id`` or ``id``); 408,
429, 5xx, timeouts and broken connections ``Retry``; any other answer ``Gone``. The endpoint
keeps when it last took a message and what last went wrong.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.notifications.channels import Gone, Outcome, Retry, Sent, described
from portal.notifications.messages import Message
from portal.notifications.models import Delivery, WebhookEndpoint
from portal.notifications.webhooks import resolve_public, signed_headers, split_webhook_url

logger = logging.getLogger(__name__)

# What is read of a gateway's answer: enough for an id, never a whole page.
MAX_ANSWER_BYTES = 16 * 1024
USER_AGENT = "Machiplus-Webhook/1"
RETRY_STATUSES = frozenset({408, 425, 429})
# Provider ids longer than Delivery.provider_id's column are cut.
MAX_PROVIDER_ID = 300


class WebhookSender:
    """One event loop and one client per batch. The exchange runs on the loop because only
    there can it be given one deadline as a whole (httpx's timeouts bound each read: a gateway
    answering a byte at a time would otherwise hold the worker as long as it liked)."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> WebhookSender:
        timeout = float(settings.NOTIFY_HTTP_TIMEOUT)
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(
            transport=_ConnectionsPerName(),
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            if self._client is not None:
                self._loop.run_until_complete(self._client.aclose())
            self._loop.close()
        self._client = None
        self._loop = None

    def prepare(self, deliveries: Sequence[Delivery]) -> None:
        """Each message reads its own subscriptions or gateway as it is sent (they change)."""

    def send(self, delivery: Delivery, message: Message) -> Outcome:
        assert self._client is not None, "use the sender as a context manager"
        endpoint = WebhookEndpoint.objects.filter(resident_id=delivery.resident_id).first()
        if endpoint is None:
            return Gone("no messaging gateway address")
        outcome = self._post(endpoint, message)
        _remember(endpoint, outcome)
        return outcome

    def _post(self, endpoint: WebhookEndpoint, message: Message) -> Outcome:
        assert self._client is not None
        try:
            parts = split_webhook_url(endpoint.url)
            url = httpx.URL(parts.geturl())
        except ValidationError as error:
            return Gone(f"the gateway's address is refused: {' '.join(error.messages)}")
        except httpx.InvalidURL as error:
            return Gone(f"the gateway's address is refused: {described(error)}")
        name = url.raw_host.decode("ascii")
        port = parts.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = resolve_public(name, port)
        except ValidationError as error:
            if error.code == "unresolved":
                # The name server may be down for a moment: try again later.
                return Retry(" ".join(error.messages))
            logger.warning(
                "Webhook endpoint #%s: %s resolves to an address that is not public",
                endpoint.pk,
                name,
            )
            return Gone(" ".join(error.messages))
        body = json.dumps(message.as_json(), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Host": _host_header(name, url),
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            # The answer is read raw, a few kilobytes at most: nothing to inflate.
            "Accept-Encoding": "identity",
            **signed_headers(endpoint.secret, body, message_id=message.message_id),
        }
        unreachable: httpx.ConnectError | None = None
        for address in addresses:
            try:
                return self._post_to(address, url, name, headers, body)
            except httpx.ConnectError as refused:
                # That address does not answer (no IPv6 route, say): the name's next one may.
                unreachable = refused
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as e:
                return Retry(described(e))
            except httpx.HTTPError as e:
                return Gone(described(e))
        assert unreachable is not None
        return Retry(described(unreachable))

    def _post_to(
        self, address: str, url: httpx.URL, name: str, headers: dict[str, str], body: bytes
    ) -> Outcome:
        assert self._loop is not None
        deadline = float(settings.NOTIFY_HTTP_TIMEOUT)
        exchange = self._exchange(url.copy_with(host=address), name, headers, body)
        try:
            return self._loop.run_until_complete(asyncio.wait_for(exchange, timeout=deadline))
        except TimeoutError:
            return Retry(f"the gateway took longer than {deadline:g} s")

    async def _exchange(
        self, pinned: httpx.URL, name: str, headers: dict[str, str], body: bytes
    ) -> Outcome:
        assert self._client is not None
        async with self._client.stream(
            "POST",
            pinned,
            content=body,
            headers=headers,
            extensions={"sni_hostname": name},
        ) as response:
            answer = await _read_some(response)
        return _outcome(response, answer)


class _ConnectionsPerName(httpx.AsyncBaseTransport):
    """A connection pool for each gateway name: a connection is kept for the next messages of
    the batch, but only for the name its TLS certificate was verified against (two names at one
    address never share one)."""

    def __init__(self) -> None:
        self._pools: dict[str, httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = str(request.extensions.get("sni_hostname") or request.url.host)
        pool = self._pools.get(name)
        if pool is None:
            # The environment may name certificate authorities (SSL_CERT_FILE); its proxies are
            # the client's to refuse (trust_env=False there).
            pool = self._pools[name] = httpx.AsyncHTTPTransport()
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()
        self._pools.clear()


def _host_header(name: str, url: httpx.URL) -> str:
    host = f"[{name}]" if ":" in name else name
    return host if url.port is None else f"{host}:{url.port}"


async def _read_some(response: httpx.Response) -> bytes:
    """The start of the answer (only a 2xx's is read: its id), at most ``MAX_ANSWER_BYTES``
    (the exchange's deadline bounds how long it may take)."""
    if (
        not response.is_success
        or response.headers.get("Content-Encoding", "identity") != "identity"
    ):
        return b""
    read = bytearray()
    async for chunk in response.aiter_raw():
        read += chunk
        if len(read) >= MAX_ANSWER_BYTES:
            break
    return bytes(read[:MAX_ANSWER_BYTES])


def _outcome(response: httpx.Response, answer: bytes) -> Outcome:
    status = response.status_code
    if response.is_success:
        return Sent(_provider_id(response, answer))
    if response.is_redirect or 300 <= status < 400:
        where = response.headers.get("Location", "")[:200]
        return Gone(
            f"the gateway answered {status} (a redirect to {where or 'nowhere'}); "
            "redirects are not followed: give its final address"
        )
    if status in RETRY_STATUSES or status >= 500:
        return Retry(f"the gateway answered {status}")
    return Gone(f"the gateway refused the message: {status}")


def _provider_id(response: httpx.Response, answer: bytes) -> str:
    given: str = response.headers.get("X-Message-Id", "")
    if not given and answer:
        try:
            parsed: Any = json.loads(answer)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("id"), str | int):
            given = str(parsed["id"])
    return given.strip()[:MAX_PROVIDER_ID]


def _remember(endpoint: WebhookEndpoint, outcome: Outcome) -> None:
    # An update of these fields only: the resident may change the address meanwhile.
    if isinstance(outcome, Sent):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            last_delivered_at=timezone.now(), last_error=""
        )
    else:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(last_error=outcome.error[:500])
