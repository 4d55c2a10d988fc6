"""Writes of the feeds: poll a source, ingest a document, keep the run record.

Parsing is pure (portal/feeds/parsing); storing goes through ``notices.services.notice_ingest``,
one transaction per item, so a refused item leaves nothing behind and the rest of a feed goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import F, Q
from django.utils import timezone

from portal.feeds.fetching import FetchFailed, fetch, read_file, same_host, shared_client
from portal.feeds.models import AreaCode, FetchedDocument, Kind, Run, Source
from portal.feeds.parsing.cap import parse_cap
from portal.feeds.parsing.documents import (
    SERIES_MAX_LENGTH,
    VERSION_ID_MAX_LENGTH,
    DocumentNotForUs,
    DocumentRefused,
    Item,
    ItemAction,
    ParsedDocument,
    bounded_identity,
)
from portal.feeds.parsing.geometry import point_in_circle, point_in_polygon
from portal.feeds.parsing.jmaxml import parse_jma_atom_feed, parse_jmaxml
from portal.feeds.parsing.rss import parse_feed
from portal.feeds.parsing.text import (
    clean_text,
    limited_body,
    markdown_autolink,
    single_line_text,
)
from portal.models import Area
from portal.notices.models import Category
from portal.notices.services import IngestedVersion, IngestOutcome, notice_ingest

logger = logging.getLogger(__name__)

ATOM_NAMESPACE = b"http://www.w3.org/2005/Atom"


# ----------------------------------------------------------------------------------------------
# Polling (beat, "poll now") and the commands
# ----------------------------------------------------------------------------------------------


def sources_claim_due(*, now: datetime | None = None) -> list[int]:
    """The enabled sources due a poll, each claimed by moving its next poll on (one UPDATE per
    source, so two beats or a slow worker never poll a source twice at once)."""
    now = now or timezone.now()
    claimed = []
    due = (
        Source.objects.filter(enabled=True, next_poll_at__lte=now)
        .filter(Q(polling_until__isnull=True) | Q(polling_until__lt=now))
        .values_list("pk", "interval", "next_poll_at")
    )
    for pk, interval, next_poll_at in due:
        moved = Source.objects.filter(pk=pk, next_poll_at=next_poll_at).update(
            next_poll_at=now + max(interval, timedelta(minutes=1)),
            polling_until=now + timedelta(seconds=settings.FEEDS_POLL_LEASE_SECONDS),
        )
        if moved:
            claimed.append(pk)
    return claimed


def source_poll(
    *,
    source_id: int,
    origin: str = Run.Origin.BEAT,
    client: httpx.Client | None = None,
    now: datetime | None = None,
) -> Run:
    """Fetch one source (conditionally) and ingest what it brings; a failure backs it off."""
    now = now or timezone.now()
    source = Source.objects.prefetch_related("areas").get(pk=source_id)
    run = Run.objects.create(
        source=source, kind=source.kind, origin=origin, location=source.url, started_at=now
    )
    client = client or shared_client()
    try:
        _poll(source, run, client, now=now)
    except Exception as error:
        # Whatever went wrong, the run ends and says so, and the source backs off: a document
        # that breaks the connector must not leave the source polled at full rate for ever.
        logger.exception("Polling feed source %s failed", source.pk)
        reason = f"internal error while reading: {type(error).__name__}: {error}"[:300]
        _refuse(run, source.url, reason, status=Run.Status.FAILED)
        _source_failed(source, reason, now=now)
    finally:
        Source.objects.filter(pk=source.pk).update(polling_until=None)
    return finish_run(run)


def _poll(source: Source, run: Run, client: httpx.Client, *, now: datetime) -> None:
    try:
        fetched = fetch(
            source.url, etag=source.etag, last_modified=source.last_modified, client=client
        )
        run.http_status = fetched.http_status
        if fetched.body is None:
            run.status = Run.Status.NOT_MODIFIED
        else:
            run.fetched = 1
            _ingest_bytes(fetched.body, kind=source.kind, run=run, source=source, client=client)
        if run.rejected and not (_accepted(run) or run.skipped):
            # Fetched, but nothing in it could be read: an HTML error page, a broken document.
            _source_failed(source, str(run.problems[0]["reason"]), now=now)
        else:
            _source_succeeded(
                source, etag=fetched.etag, last_modified=fetched.last_modified, now=now
            )
    except FetchFailed as failed:
        run.http_status = failed.http_status
        _refuse(run, source.url, failed.reason, status=Run.Status.FAILED)
        _source_failed(source, failed.reason, now=now)


def ingest_location(*, kind: str, location: str, origin: str = Run.Origin.COMMAND) -> Run:
    """A file or a URL given on the command line; recorded as a run like a poll."""
    run = Run.objects.create(kind=kind, origin=origin, location=location[:500])
    try:
        if location.startswith(("http://", "https://")):
            client = shared_client()
            fetched = fetch(location, client=client)
            run.http_status = fetched.http_status
            run.fetched = 1
            assert fetched.body is not None  # no validators sent, so never a 304
            _ingest_bytes(fetched.body, kind=kind, run=run, source=None, client=client)
        else:
            data = read_file(location)
            run.fetched = 1
            _ingest_bytes(data, kind=kind, run=run, source=None, client=None)
    except FetchFailed as failed:
        run.http_status = failed.http_status
        _refuse(run, location, failed.reason, status=Run.Status.FAILED)
    return finish_run(run)


# ----------------------------------------------------------------------------------------------
# Ingesting one document
# ----------------------------------------------------------------------------------------------


def ingest_document(
    data: bytes,
    *,
    kind: str,
    run: Run,
    source: Source | None = None,
    reference: str = "",
    now: datetime | None = None,
) -> None:
    """Parse ``data`` as ``kind`` and store its items; everything refused goes into ``run``
    under ``reference`` (the document's URL; the run's location by default)."""
    served = _served_area_ids(source)
    parsed = _parsed(
        data, kind=kind, run=run, source=source, served=served, reference=reference or run.location
    )
    if parsed is None:
        return
    run.notes = [*run.notes, parsed.summary, *parsed.notes][:50]
    for refusal in parsed.refused:
        _refuse(run, refusal.reference, refusal.reason)
    limit = settings.FEEDS_MAX_ITEMS_PER_DOCUMENT
    if len(parsed.items) > limit:
        _refuse(
            run,
            reference or run.location,
            f"{len(parsed.items)} items: only the first {limit} are read "
            "(FEEDS_MAX_ITEMS_PER_DOCUMENT)",
        )
    for item in parsed.items[:limit]:
        _ingest_item(
            item, source_kind=parsed.source, run=run, source=source, served=served, now=now
        )


def _ingest_bytes(
    data: bytes, *, kind: str, run: Run, source: Source | None, client: httpx.Client | None
) -> None:
    if kind == Kind.JMA and ATOM_NAMESPACE in data[:1000]:
        _ingest_jma_atom_feed(data, run=run, source=source, client=client)
    else:
        ingest_document(data, kind=kind, run=run, source=source)


def _ingest_jma_atom_feed(
    data: bytes, *, run: Run, source: Source | None, client: httpx.Client | None
) -> None:
    """JMA's Atom feeds list documents: fetch each one not fetched before."""
    try:
        feed = parse_jma_atom_feed(data)
    except DocumentRefused as refused:
        _refuse(run, run.location, refused.reason)
        return
    if client is None:
        for link in feed.links:
            _refuse(run, link, "a feed read from a file cannot fetch the documents it lists")
        return
    # JMA serves its feeds and their documents from one host; a link elsewhere (a tampered
    # feed pointing into the city's network) is not fetched.
    foreign = [link for link in feed.links if not same_host(link, run.location)]
    for link in foreign:
        _refuse(run, link, "a link to another host than the feed's: not fetched")
    links = [link for link in feed.links if link not in foreign]
    seen = set(FetchedDocument.objects.filter(url__in=links).values_list("url", flat=True))
    new_links = [link for link in links if link not in seen]
    limit = settings.FEEDS_MAX_LINKS_PER_POLL
    if len(new_links) > limit:
        run.notes = [*run.notes, f"{len(new_links) - limit} documents left for the next poll"]
    budget_ends = time.monotonic() + settings.FEEDS_POLL_BUDGET_SECONDS
    for position, link in enumerate(new_links[:limit]):
        if time.monotonic() > budget_ends:
            left = len(new_links[:limit]) - position
            run.notes = [*run.notes, f"{left} documents left for the next poll (time budget)"]
            break
        try:
            fetched = fetch(link, client=client)
        except FetchFailed as failed:
            _refuse(run, link, failed.reason)
            continue
        run.fetched += 1
        assert fetched.body is not None
        _ingest_listed_document(fetched.body, link=link, run=run, source=source)
        # Read once, whatever came of it: a document that cannot be read is not read again.
        FetchedDocument.objects.get_or_create(url=link[:500])


def _ingest_listed_document(data: bytes, *, link: str, run: Run, source: Source | None) -> None:
    try:
        ingest_document(data, kind=Kind.JMA, run=run, source=source, reference=link)
    except Exception as error:
        # One document that breaks the connector must not stop the ones listed after it.
        logger.exception("Reading %s failed", link)
        _refuse(run, link, f"internal error while reading: {type(error).__name__}"[:300])


def _parsed(
    data: bytes,
    *,
    kind: str,
    run: Run,
    source: Source | None,
    served: set[int] | None,
    reference: str,
) -> ParsedDocument | None:
    parsers: dict[str, Callable[[bytes], ParsedDocument]] = {
        Kind.JMA: lambda d: parse_jmaxml(
            d,
            area_codes=_jma_area_codes(served),
            warning_formats=settings.FEEDS_JMA_WARNING_FORMATS,
            max_bytes=settings.FEEDS_MAX_DOCUMENT_BYTES,
        ),
        Kind.CAP: parse_cap,
        Kind.RSS: lambda d: parse_feed(d, feed_url=source.url if source else run.location),
    }
    try:
        return parsers[kind](data)
    except DocumentNotForUs as elsewhere:
        _skip(run, reference, elsewhere.reason)
        return None
    except DocumentRefused as refused:
        _refuse(run, reference, refused.reason)
        return None


def _ingest_item(
    item: Item,
    *,
    source_kind: str,
    run: Run,
    source: Source | None,
    served: set[int] | None,
    now: datetime | None,
) -> None:
    reference = single_line_text(item.title_ja)[:80] or item.version_id[:80]
    moment = now or timezone.now()
    if item.version_at > moment + timedelta(seconds=settings.FEEDS_MAX_CLOCK_SKEW_SECONDS):
        # A version dated ahead (a wrong clock, or a forgery) would make every real one after
        # it look older, and be ignored, until that date.
        _refuse(run, reference, f"dated in the future: {item.version_at.isoformat()}")
        return
    area_ids = _area_ids(item, served=served)
    if (item.areas or item.polygons or item.circles) and not area_ids:
        _skip(run, reference, _no_area_reason(item))
        return
    if not area_ids and served is not None and item.action == ItemAction.ISSUE:
        # A source serving some areas speaks for them only, even when an item names none.
        area_ids = {area.pk for area in source.areas.all()} if source is not None else set()
    version = _version(
        item, source_kind=source_kind, area_ids=area_ids, source=source, scope=_scope(run, source)
    )
    try:
        result = _ingest_once_more_on_conflict(version, now=now)
    except ValidationError as invalid:
        _refuse(run, reference, "; ".join(invalid.messages)[:500])
        return
    _count(run, result.outcome)
    numbered = result.notice_id or result.ended_notice_id
    exercise = " (exercise)" if item.is_exercise else ""
    note = f"{OUTCOME_WORDS[result.outcome]}{f' #{numbered}' if numbered else ''}{exercise}"
    run.notes = [*run.notes, f"{note}: {reference}"][:200]
    logger.info("Feed item %s: %s", item.version_id, note)


# What each outcome says in the run record and the commands' output.
OUTCOME_WORDS = {
    IngestOutcome.CREATED: "created",
    IngestOutcome.UPDATED: "updated (the earlier version superseded)",
    IngestOutcome.CANCELLED: "cancelled (withdrawn)",
    IngestOutcome.LIFTED: "lifted (expired)",
    IngestOutcome.UNCHANGED: "unchanged (seen before)",
    IngestOutcome.STALE: "unchanged (older than the version in force)",
    IngestOutcome.NOTHING_LIVE: "unchanged (nothing in force to end)",
}


def _ingest_once_more_on_conflict(version: IngestedVersion, *, now: datetime | None) -> Any:
    """Two workers may create one series at once; the loser's transaction is rolled back and
    tried again, and then finds the series the winner made."""
    try:
        return notice_ingest(version=version, now=now)
    except IntegrityError:
        return notice_ingest(version=version, now=now)


def _scope(run: Run, source: Source | None) -> str:
    """Series and versions belong to one source: one authority cannot cancel, update or lift
    what another published, whatever its documents claim. Documents given on the command line
    share one scope per host (or one for files)."""
    if source is not None:
        return f"source-{source.pk}"
    host = urlsplit(run.location).hostname if run.location.startswith("http") else None
    return f"url-{host}" if host else "file"


def _scoped(identity: str, scope: str, limit: int) -> str:
    return bounded_identity(f"{scope}|{identity}", limit)


def _version(
    item: Item,
    *,
    source_kind: str,
    area_ids: Collection[int],
    source: Source | None,
    scope: str,
) -> IngestedVersion:
    expires_at = item.expires_at
    if expires_at is None and item.category == Category.DISASTER:
        # JMA lifts a warning by a later report; should that report never come, the warning
        # still ends.
        expires_at = item.version_at + timedelta(hours=settings.FEEDS_WARNING_LIFETIME_HOURS)
    body_ja = limited_body(clean_text(item.body_ja), limit=settings.FEEDS_MAX_BODY_CHARS)
    if item.link:
        body_ja = f"{body_ja}\n\n{markdown_autolink(item.link)}".strip()
    return IngestedVersion(
        source=source_kind,
        series=_scoped(item.series, scope, SERIES_MAX_LENGTH),
        version_id=_scoped(item.version_id, scope, VERSION_ID_MAX_LENGTH),
        version_at=item.version_at,
        action=item.action.value,
        category=item.category,
        urgency=item.urgency,
        title_ja=single_line_text(item.title_ja)[:200],
        body_ja=body_ja,
        title_en=single_line_text(item.title_en)[:200],
        body_en=limited_body(clean_text(item.body_en), limit=settings.FEEDS_MAX_BODY_CHARS),
        area_ids=sorted(area_ids),
        expires_at=expires_at,
        is_exercise=item.is_exercise,
        references=[_scoped(ref, scope, VERSION_ID_MAX_LENGTH) for ref in item.references],
        department_id=source.department_id if source is not None else None,
    )


# ----------------------------------------------------------------------------------------------
# Areas: the city's table of codes, and CAP polygons against the areas' points
# ----------------------------------------------------------------------------------------------


def _served_area_ids(source: Source | None) -> set[int] | None:
    """The areas a source serves, with everything inside them; None: every area."""
    if source is None:
        return None
    served = [area.pk for area in source.areas.all()]
    if not served:
        return None
    return Area.objects.ids_with_descendants(served)


def _jma_area_codes(served: set[int] | None) -> set[str]:
    mappings = AreaCode.objects.filter(scheme="jma")
    if served is not None:
        mappings = mappings.filter(areas__in=served)
    return set(mappings.values_list("code", flat=True))


def _area_ids(item: Item, *, served: set[int] | None) -> set[int]:
    found: set[int] = set()
    if item.areas:
        codes_by_scheme: dict[str, set[str]] = {}
        for ref in item.areas:
            codes_by_scheme.setdefault(ref.scheme, set()).add(ref.code)
        by_code = Q(pk__in=[])
        for scheme, codes in codes_by_scheme.items():
            by_code |= Q(scheme=scheme, code__in=sorted(codes))
        found |= set(
            AreaCode.objects.filter(by_code)
            .filter(areas__isnull=False)
            .values_list("areas", flat=True)
        )
    if item.polygons or item.circles:
        found |= _areas_inside(item)
    return found if served is None else found & served


def _areas_inside(item: Item) -> set[int]:
    """Areas whose representative point lies in one of the item's polygons or circles: an
    approximation (an area partly covered by a polygon that misses its point is not matched),
    enough for warnings drawn around districts."""
    inside = set()
    points = Area.objects.filter(latitude__isnull=False, longitude__isnull=False).values_list(
        "pk", "latitude", "longitude"
    )
    for pk, latitude, longitude in points:
        assert latitude is not None and longitude is not None  # filtered above
        lat, lon = float(latitude), float(longitude)
        if any(point_in_polygon(lat, lon, polygon) for polygon in item.polygons) or any(
            point_in_circle(lat, lon, circle) for circle in item.circles
        ):
            inside.add(pk)
    return inside


def _no_area_reason(item: Item) -> str:
    named = ", ".join(f"{ref.scheme} {ref.code} {ref.name}".strip() for ref in item.areas[:10])
    shapes = len(item.polygons) + len(item.circles)
    parts = [f"codes: {named}"] if named else []
    if shapes:
        parts.append(f"{shapes} polygon(s)/circle(s) containing no area's point")
    return "concerns none of the configured areas (" + "; ".join(parts) + ")"


# ----------------------------------------------------------------------------------------------
# The run record and the source's health
# ----------------------------------------------------------------------------------------------

_COUNTERS = {
    IngestOutcome.CREATED: ("created",),
    IngestOutcome.UPDATED: ("updated", "superseded"),
    IngestOutcome.CANCELLED: ("superseded",),
    IngestOutcome.LIFTED: ("superseded",),
    IngestOutcome.UNCHANGED: ("unchanged",),
    IngestOutcome.STALE: ("unchanged",),
    IngestOutcome.NOTHING_LIVE: ("unchanged",),
}


def _count(run: Run, outcome: IngestOutcome) -> None:
    for counter in _COUNTERS[outcome]:
        setattr(run, counter, getattr(run, counter) + 1)


def _refuse(run: Run, reference: str, reason: str, *, status: str | None = None) -> None:
    run.rejected += 1
    _problem(run, reference, reason, skipped=False)
    if status is not None:
        run.status = status
    logger.warning("Feed %s refused %s: %s", run.location, reference[:200], reason)


def _skip(run: Run, reference: str, reason: str) -> None:
    run.skipped += 1
    _problem(run, reference, reason, skipped=True)
    logger.info("Feed %s skipped %s: %s", run.location, reference[:200], reason)


def _problem(run: Run, reference: str, reason: str, *, skipped: bool) -> None:
    entry = {"reference": reference[:200], "reason": reason[:500], "skipped": skipped}
    run.problems = [*run.problems, entry][:200]


def finish_run(run: Run) -> Run:
    if run.status == Run.Status.RUNNING:
        if not run.rejected:
            skipped_only = run.skipped and not _accepted(run)
            run.status = Run.Status.SKIPPED if skipped_only else Run.Status.OK
        else:
            accepted = _accepted(run) or run.skipped
            run.status = Run.Status.PARTIAL if accepted else Run.Status.REFUSED
    run.finished_at = timezone.now()
    run.save()
    return run


def _accepted(run: Run) -> int:
    return run.created + run.updated + run.superseded + run.unchanged


def _source_succeeded(source: Source, *, etag: str, last_modified: str, now: datetime) -> None:
    Source.objects.filter(pk=source.pk).update(
        etag=etag, last_modified=last_modified, last_success_at=now, consecutive_failures=0,
        last_error="",
    )  # fmt: skip


def _source_failed(source: Source, reason: str, *, now: datetime) -> None:
    """Back off: the interval doubles with each failure in a row, up to a ceiling."""
    failures = source.consecutive_failures + 1
    delay = min(
        source.interval.total_seconds() * 2 ** min(failures, 20),
        settings.FEEDS_MAX_BACKOFF_SECONDS,
    )
    Source.objects.filter(pk=source.pk).update(
        consecutive_failures=F("consecutive_failures") + 1,
        last_error=reason[:1000],
        next_poll_at=now + timedelta(seconds=max(delay, 60)),
    )


def runs_prune(*, keep_days: int = 90, now: datetime | None = None) -> int:
    now = now or timezone.now()
    deleted, _by_model = Run.objects.filter(started_at__lt=now - timedelta(days=keep_days)).delete()
    return deleted


def outcome_lines(run: Run) -> Iterable[str]:
    """What a run did, for the commands' output."""
    counts: dict[str, Any] = run.counts()
    counts["refused"] = counts.pop("rejected")
    yield ", ".join(f"{name} {value}" for name, value in counts.items())
    for problem in run.problems:
        what = "skipped" if problem.get("skipped") else "refused"
        yield f"{what}: {problem['reference']}: {problem['reason']}"
