"""The consent gate: the ONLY way code reads resident attributes.

Ask it for the categories a purpose needs, and it returns what the residents' consents let that
purpose see of them, writing every read to the data-use log. Nothing here writes attributes;
erasure lives in portal.residents.services.

Two shapes of answer:

- ``iter_profile_chunks`` streams residents by id range, as columns (plain lists a scorer turns
  into arrays): the scoring worker's read of a whole city.
- ``read_profile`` / ``read_profiles`` return one frozen projection per resident: what pages
  and small fan-outs need. ``read_own_data`` is the resident's own look at everything stored.

A test (tests/consent/test_gate_is_the_only_reader.py) fails if another module imports the
resident attribute models.

Read outside any transaction of your own: the log of a read is written in the transaction the
read runs in, so a caller that rolls back after using the data would erase the record of its use.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any, Literal, NamedTuple

import numpy as np
from django.db import connection, transaction
from django.db.models import Case, Q, QuerySet, Sum, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone
from psycopg import IsolationLevel

from consent.catalogue import SUBJECT_ACCESS, Category, categories_in, category_mask
from consent.models import ConsentState, DataCategory, DataUseEvent, Purpose, ReaderKind
from consent.selectors import active_grants_q, usable_terms_recipients
from portal.models import (
    Area,
    ResidentChild,
    ResidentInteraction,
    ResidentPlace,
    ResidentProfile,
)

# Residents per chunk: of the id lists read_profiles is given, and by default of a range read.
BULK_CHUNK = 2000
RANGE_CHUNK = 5000
# Above this many residents, PostgreSQL gets a chunk's data-use log through COPY.
COPY_THRESHOLD = 500
AGE_BAND_WIDTH = 10
EVERY_CATEGORY = frozenset(Category.values)
EMPTY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Reader:
    """Who reads, and on whose behalf.

    ``name`` says in plain English words what reads, e.g. "the shelters on your home page": the
    resident sees it on the "my data" page, translated, so mark it with ``gettext_noop``.
    ``recipient`` is who the data is read for; the resident's consent must name it.
    """

    kind: Literal["view", "task", "staff"]
    name: str
    recipient: str
    staff_id: int | None = None


@dataclass(frozen=True)
class PlaceView:
    id: int
    kind: str
    area_id: int


@dataclass(frozen=True)
class InteractionView:
    """What the resident did with one notice; a time is None for what they did not do."""

    notice_id: int
    shown_count: int
    first_shown_at: datetime | None
    opened_at: datetime | None
    saved_at: datetime | None
    dismissed_at: datetime | None


@dataclass(frozen=True)
class ChildView:
    id: int
    school_id: int
    grade: int


@dataclass(frozen=True)
class ProfileProjection:
    """The attributes one purpose may see of one resident; the rest is absent, not empty."""

    resident_id: int
    purpose: str
    categories: frozenset[str]
    birth_year: int | None = None
    age_band: str | None = None
    places: tuple[PlaceView, ...] = ()
    children: tuple[ChildView, ...] = ()
    interests: tuple[str, ...] = ()
    interactions: tuple[InteractionView, ...] = ()
    preferred_language: str | None = None
    needs_large_text: bool | None = None
    needs_easy_japanese: bool | None = None
    home_location: tuple[Decimal, Decimal] | None = None

    def has(self, category: str) -> bool:
        return category in self.categories


@dataclass(frozen=True)
class ProfileChunk:
    """What a purpose may see of a run of residents, as columns.

    Row ``i`` of the per-resident columns belongs to ``resident_ids[i]``; the chunk holds only
    residents whose consent lets the purpose read at least one of the categories asked for.
    ``allowed_masks[i]`` holds that resident's readable categories among those asked, as
    ``consent.catalogue.CATEGORY_BITS``. Multi-valued categories are flat lists, each entry
    pointing at its resident's row through a ``*_resident_index`` column.

    A column is None when its category was not asked for. In an asked column, a resident whose
    consent does not cover the category (or who stored nothing) has None, or no entries.
    """

    purpose: str
    asked: frozenset[str]
    resident_ids: list[int]
    allowed_masks: list[int]
    age_bands: list[str | None] | None = None
    place_resident_index: list[int] | None = None
    place_ids: list[int] | None = None
    place_kinds: list[str] | None = None
    place_area_ids: list[int] | None = None
    child_resident_index: list[int] | None = None
    child_ids: list[int] | None = None
    child_school_ids: list[int] | None = None
    child_grades: list[int] | None = None
    interest_resident_index: list[int] | None = None
    interest_codes: list[str] | None = None
    interaction_resident_index: list[int] | None = None
    interaction_notice_ids: list[int] | None = None
    interaction_shown_counts: list[int] | None = None
    interaction_first_shown_at: list[datetime | None] | None = None
    interaction_opened_at: list[datetime | None] | None = None
    interaction_saved_at: list[datetime | None] | None = None
    interaction_dismissed_at: list[datetime | None] | None = None
    preferred_languages: list[str | None] | None = None
    needs_large_text: list[bool | None] | None = None
    needs_easy_japanese: list[bool | None] | None = None
    home_latitudes: list[Decimal | None] | None = None
    home_longitudes: list[Decimal | None] | None = None
    # Shown to the resident alone (read_own_data): purposes see the band, never the year.
    birth_years: list[int | None] | None = None

    def __len__(self) -> int:
        return len(self.resident_ids)

    def projections(self) -> dict[int, ProfileProjection]:
        """The same data as one frozen projection per resident."""
        places = _grouped(
            self.place_resident_index,
            self.place_ids,
            self.place_kinds,
            self.place_area_ids,
            make=PlaceView,
        )
        children = _grouped(
            self.child_resident_index,
            self.child_ids,
            self.child_school_ids,
            self.child_grades,
            make=ChildView,
        )
        interests = _grouped(self.interest_resident_index, self.interest_codes, make=str)
        interactions = _grouped(
            self.interaction_resident_index,
            self.interaction_notice_ids,
            self.interaction_shown_counts,
            self.interaction_first_shown_at,
            self.interaction_opened_at,
            self.interaction_saved_at,
            self.interaction_dismissed_at,
            make=InteractionView,
        )
        return {
            resident_id: ProfileProjection(
                resident_id=resident_id,
                purpose=self.purpose,
                categories=categories_in(self.allowed_masks[row]),
                birth_year=_at(self.birth_years, row),
                age_band=_at(self.age_bands, row),
                places=tuple(places.get(row, ())),
                children=tuple(children.get(row, ())),
                interests=tuple(interests.get(row, ())),
                interactions=tuple(interactions.get(row, ())),
                preferred_language=_at(self.preferred_languages, row),
                needs_large_text=_at(self.needs_large_text, row),
                needs_easy_japanese=_at(self.needs_easy_japanese, row),
                home_location=_location(self, row),
            )
            for row, resident_id in enumerate(self.resident_ids)
        }


# ------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------


def iter_profile_chunks(
    *,
    purpose: str,
    reader: Reader,
    categories: Collection[str],
    id_range: tuple[int, int],
    chunk_size: int = RANGE_CHUNK,
) -> Iterator[ProfileChunk]:
    """Stream what ``purpose`` may read of the residents with ids in ``id_range`` (both ends
    included), ``chunk_size`` residents at a time, in id order.

    Only residents with a grant for the purpose covering one of ``categories`` are read. Each
    chunk takes a fixed number of range queries, all in one snapshot of the database, so that a
    withdrawal cannot slip between the permission and the attributes; each chunk is written to
    the data-use log before it is yielded.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    asked = _asked(categories)
    catalogue = _Catalogue.load(purpose)
    low, high = id_range
    more = True
    while more and low <= high:
        chunk, more = _read_and_log(
            purpose=purpose,
            reader=reader,
            asked=asked,
            catalogue=catalogue,
            scope=_Scope.between(low, high),
            limit=chunk_size,
        )
        if chunk.resident_ids:
            yield chunk
            low = chunk.resident_ids[-1] + 1


def read_profile(
    *, resident_id: int, purpose: str, reader: Reader, categories: Collection[str]
) -> ProfileProjection:
    """The projection of one resident's profile for ``purpose``; the read is logged."""
    return read_profiles(
        resident_ids=[resident_id], purpose=purpose, reader=reader, categories=categories
    )[resident_id]


def read_profiles(
    *,
    resident_ids: Iterable[int],
    purpose: str,
    reader: Reader,
    categories: Collection[str],
) -> dict[int, ProfileProjection]:
    """Projections of these residents, with a fixed number of queries per 2,000 of them.

    A resident the purpose may read nothing of gets an empty projection and is not logged.
    """
    asked = _asked(categories)
    ids = sorted(set(resident_ids))
    projections = {
        resident_id: ProfileProjection(resident_id=resident_id, purpose=purpose, categories=EMPTY)
        for resident_id in ids
    }
    if not ids:
        return projections
    catalogue = _Catalogue.load(purpose)
    for batch in _batches(ids, BULK_CHUNK):
        chunk, _more = _read_and_log(
            purpose=purpose,
            reader=reader,
            asked=asked,
            catalogue=catalogue,
            scope=_Scope.of(batch),
            limit=None,
        )
        projections.update(chunk.projections())
    return projections


@dataclass(frozen=True)
class Need:
    """One purpose's read among those of a page: what it needs, and who reads it for whom."""

    purpose: str
    reader: Reader
    categories: tuple[str, ...]


def read_profile_for_purposes(
    *, resident_id: int, needs: Sequence[Need]
) -> list[ProfileProjection]:
    """One resident's projections for several purposes at once, in the order of ``needs``: what
    one page shows (the home page's warnings, its own list and the school letters).

    Each projection holds only what its own purpose may see, exactly as ``read_profile`` would
    give it, and each purpose's use is logged under its own reader. The permissions of all of
    them come from one query and each category any of them may read from one more, all in one
    snapshot; the log is one write. Inside a caller's transaction that is no snapshot
    (PostgreSQL's READ COMMITTED), each purpose is read by ``read_profile``.
    """
    if not needs:
        raise ValueError("name at least one purpose's need")
    if any(need.purpose == SUBJECT_ACCESS for need in needs):
        raise ValueError("the resident's own look at their data is read_own_data")
    asked = [_asked(need.categories) for need in needs]
    if connection.in_atomic_block and not _transaction_is_a_snapshot():
        # Inside a caller's READ COMMITTED transaction each statement sees the database anew:
        # read each purpose on its own, its attribute queries checking its own permission,
        # rather than trust a permission read a statement earlier.
        return [
            read_profile(
                resident_id=resident_id,
                purpose=need.purpose,
                reader=need.reader,
                categories=need.categories,
            )
            for need in needs
        ]
    with _snapshot():
        allowed = _allowed_for_needs(resident_id, needs, asked)
        _after_permission_query()
        everything = frozenset[str]().union(*allowed)
        # Permission and attributes come from one snapshot of this one resident: the attribute
        # queries need no permission condition of their own.
        full = (
            _load_chunk(
                purpose="",
                asked=everything,
                resident_ids=[resident_id],
                masks=[category_mask(everything)],
                scope=_Scope.of([resident_id]),
                permitted=_everything_of_the_subject,
            ).projections()[resident_id]
            if everything
            else None
        )
    _log_uses(
        resident_id,
        [
            (need.purpose, need.reader, category_mask(categories))
            for need, categories in zip(needs, allowed, strict=True)
        ],
    )
    return [
        _restricted(full, resident_id=resident_id, purpose=need.purpose, categories=categories)
        for need, categories in zip(needs, allowed, strict=True)
    ]


def _allowed_for_needs(
    resident_id: int, needs: Sequence[Need], asked: list[frozenset[str]]
) -> list[frozenset[str]]:
    """The categories each need's purpose may read of the resident now, for its recipient."""
    terms = usable_terms_recipients()
    rows = ConsentState.objects.filter(
        active_grants_q(usable_terms=terms),
        resident_id=resident_id,
        purpose__code__in={need.purpose for need in needs},
        category__code__in=frozenset[str]().union(*asked),
    ).values_list("purpose__code", "category__code", "terms_id")
    granted = list(rows)
    return [
        frozenset(
            category
            for purpose, category, terms_id in granted
            if purpose == need.purpose
            and category in categories
            and need.reader.recipient in terms[terms_id]
        )
        for need, categories in zip(needs, asked, strict=True)
    ]


# Which fields of a projection each category fills: a projection restricted to some categories
# is built from these fields alone, so that a field is shown only where a category allows it.
_FIELDS_OF_CATEGORY: dict[str, tuple[str, ...]] = {
    Category.AGE: ("birth_year", "age_band"),
    Category.LANGUAGE: ("preferred_language", "needs_large_text", "needs_easy_japanese"),
    Category.LOCATION: ("home_location",),
    Category.PLACES: ("places",),
    Category.HOUSEHOLD: ("children",),
    Category.INTERESTS: ("interests",),
    Category.INTERACTIONS: ("interactions",),
}


def _restricted(
    full: ProfileProjection | None, *, resident_id: int, purpose: str, categories: frozenset[str]
) -> ProfileProjection:
    kept = {
        name: getattr(full, name)
        for category in categories
        for name in _FIELDS_OF_CATEGORY[category]
        if full is not None
    }
    return ProfileProjection(
        resident_id=resident_id,
        purpose=purpose,
        categories=categories,
        **kept,
    )


@dataclass(frozen=True)
class AudienceSpec:
    """A targeting as data, for ``count_matching``: who a notice is for.

    Each part that is set narrows the audience (AND between parts, OR within one):

    - ``area_ids``: a resident matches if one of their places lies in one of these areas or
      below it (a district takes in its neighbourhoods); needs the ``places`` category.
    - ``age_bands``: "30-39" style bands; needs ``age``.
    - ``school_audiences``: (school id, grade or None for every grade); a resident matches
      through a child at that school (and grade); needs ``household``.
    - ``interest_codes``: a resident matches if they picked one of them; needs ``interests``.

    Nothing set means everyone with a grant for the purpose.
    """

    area_ids: frozenset[int] = frozenset()
    age_bands: frozenset[str] = frozenset()
    school_audiences: frozenset[tuple[int, int | None]] = frozenset()
    interest_codes: frozenset[str] = frozenset()

    def categories(self) -> frozenset[str]:
        """The data categories evaluating this targeting reads."""
        used = {
            Category.PLACES: self.area_ids,
            Category.AGE: self.age_bands,
            Category.HOUSEHOLD: self.school_audiences,
            Category.INTERESTS: self.interest_codes,
        }
        return frozenset(str(category) for category, values in used.items() if values)


def count_matching(
    *,
    purpose: str,
    reader: Reader,
    spec: AudienceSpec,
    chunk_size: int = RANGE_CHUNK,
) -> int:
    """How many residents ``spec`` reaches among those whose consent lets ``purpose`` read
    *every* category the spec uses, for ``reader.recipient``.

    The rule: a resident is counted only if the purpose may see each category the targeting
    needs (places for areas, age for age bands, household for school audiences, interests for
    interests). A resident who did not agree to share their places with the purpose is not
    counted for an area-targeted notice, even if they would match on age: we do not guess what
    we may not read. With no targeting at all, the count is of the residents with an active
    grant for the purpose (of any category); no attribute is read then, so nothing is logged.

    The count is computed here, by the gate, with the same permission query and the same
    chunked range read as ``iter_profile_chunks`` (all residents, ``chunk_size`` at a time, in
    one snapshot per chunk). Only residents who granted every category needed are read, and
    each of them is written to the data-use log as one use by ``reader`` (a staff statistic
    read: ``Reader(kind="staff", ...)``), whether or not they matched: their data was used to
    decide. Callers get a number only; they must not show it exactly (see
    portal/notices/audience.py).
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    needed = spec.categories()
    if not needed:
        return (
            ConsentState.objects.filter(
                active_grants_q(recipient=reader.recipient), purpose__code=purpose
            )
            .values("resident_id")
            .distinct()
            .count()
        )
    catalogue = _Catalogue.load(purpose)
    areas = frozenset(Area.objects.ids_with_descendants(spec.area_ids))
    low, high = 0, _LAST_ID
    counted = 0
    more = True
    while more:
        chunk, more = _read_and_log(
            purpose=purpose,
            reader=reader,
            asked=needed,
            catalogue=catalogue,
            scope=_Scope.between(low, high),
            limit=chunk_size,
            require_all=True,
        )
        if not chunk.resident_ids:
            break
        counted += _matching_rows(chunk, spec, areas)
        low = chunk.resident_ids[-1] + 1
    return counted


_LAST_ID = 2**63 - 1


def _matching_rows(chunk: ProfileChunk, spec: AudienceSpec, areas: frozenset[int]) -> int:
    """How many of the chunk's residents match every part of ``spec`` that is set."""
    matched = np.ones(len(chunk), dtype=bool)
    if spec.area_ids:
        matched &= _rows_where(
            len(chunk), chunk.place_resident_index, [a in areas for a in chunk.place_area_ids or ()]
        )
    if spec.age_bands:
        matched &= np.array([band in spec.age_bands for band in chunk.age_bands or ()], dtype=bool)
    if spec.school_audiences:
        audiences = spec.school_audiences
        hits = [
            (school, grade) in audiences or (school, None) in audiences
            for school, grade in zip(
                chunk.child_school_ids or (), chunk.child_grades or (), strict=True
            )
        ]
        matched &= _rows_where(len(chunk), chunk.child_resident_index, hits)
    if spec.interest_codes:
        hits = [code in spec.interest_codes for code in chunk.interest_codes or ()]
        matched &= _rows_where(len(chunk), chunk.interest_resident_index, hits)
    return int(matched.sum())


def _rows_where(size: int, index: list[int] | None, hits: list[bool]) -> Any:
    """A boolean column over a chunk's residents: true where one of the resident's entries of a
    multi-valued category is a hit."""
    rows = np.zeros(size, dtype=bool)
    if index:
        rows[np.asarray(index, dtype=np.int64)[np.asarray(hits, dtype=bool)]] = True
    return rows


def read_own_data(*, resident_id: int) -> ProfileProjection:
    """Everything stored about a resident, for that resident (the "my data" page, export).

    Not logged: the resident looking at their own data is no use of it by anyone.
    """
    scope = _Scope.of([resident_id])
    with _snapshot():
        chunk = _load_chunk(
            purpose=SUBJECT_ACCESS,
            asked=EVERY_CATEGORY,
            resident_ids=[resident_id],
            masks=[category_mask(EVERY_CATEGORY)],
            scope=scope,
            permitted=_everything_of_the_subject,
        )
    return chunk.projections()[resident_id]


def allowed_categories(
    *, resident_id: int, purpose: str, recipient: str | None = None, now: datetime | None = None
) -> frozenset[str]:
    """The categories ``purpose`` may read of this resident now (for ``recipient``, if named)."""
    return allowed_categories_bulk(
        resident_ids=[resident_id], purpose=purpose, recipient=recipient, now=now
    ).get(resident_id, EMPTY)


def allowed_categories_bulk(
    *,
    resident_ids: Iterable[int],
    purpose: str,
    recipient: str | None = None,
    now: datetime | None = None,
) -> dict[int, frozenset[str]]:
    allowed: dict[int, set[str]] = defaultdict(set)
    condition = active_grants_q(now=now, recipient=recipient) & Q(purpose__code=purpose)
    for batch in _batches(resident_ids, BULK_CHUNK):
        rows = ConsentState.objects.filter(condition, resident_id__in=batch).values_list(
            "resident_id", "category__code"
        )
        for resident_id, category in rows:
            allowed[resident_id].add(category)
    return {resident_id: frozenset(codes) for resident_id, codes in allowed.items()}


def may_store(*, resident_id: int, category: str, now: datetime | None = None) -> bool:
    """An attribute may be stored only while some purpose has an active consent for it."""
    return ConsentState.objects.filter(
        active_grants_q(now=now), resident_id=resident_id, category__code=category
    ).exists()


def age_band(birth_year: int | None, *, today: date | None = None) -> str | None:
    """ "30-39" style band: purposes see the band, never the year."""
    if birth_year is None:
        return None
    age = (today or timezone.localdate()).year - birth_year
    low = max(0, age // AGE_BAND_WIDTH * AGE_BAND_WIDTH)
    return f"{low}-{low + AGE_BAND_WIDTH - 1}"


def _asked(categories: Collection[str]) -> frozenset[str]:
    asked = frozenset(categories)
    unknown = asked - EVERY_CATEGORY
    if unknown:
        raise ValueError(f"unknown data categories: {sorted(unknown)}")
    if not asked:
        raise ValueError("name the data categories the read needs")
    return asked


# ------------------------------------------------------------------------------------------------
# One chunk: permission and attributes in one snapshot, then the log
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """The residents a chunk's queries cover: an id range (both ends included) or a list."""

    low: int
    high: int
    ids: Sequence[int] | None = None

    @classmethod
    def between(cls, low: int, high: int) -> _Scope:
        return cls(low, high)

    @classmethod
    def of(cls, ids: Sequence[int]) -> _Scope:
        return cls(min(ids), max(ids), ids)

    def q(self, resident_field: str = "resident_id") -> Q:
        if self.ids is None:
            return Q(**{f"{resident_field}__gte": self.low, f"{resident_field}__lte": self.high})
        if len(self.ids) == 1:
            return Q(**{resident_field: self.ids[0]})
        if connection.vendor == "postgresql" and len(self.ids) > _ARRAY_FROM:
            # One array parameter instead of thousands of placeholders, which psycopg would
            # otherwise splice into the query text one by one (a tenth of a bulk read's time).
            return Q(**{f"{resident_field}__in": RawSQL(_UNNEST, (list(self.ids),))})
        return Q(**{f"{resident_field}__in": self.ids})


# Above this many ids, PostgreSQL gets a list of residents as one array.
_ARRAY_FROM = 50
_UNNEST = "SELECT unnest(%s::bigint[])"


@dataclass(frozen=True)
class _Catalogue:
    """Catalogue ids for one read: never deleted, so safe to look up once per read."""

    purpose_id: int | None
    category_ids: dict[str, int]

    @classmethod
    def load(cls, purpose: str) -> _Catalogue:
        return cls(
            purpose_id=Purpose.objects.filter(code=purpose).values_list("id", flat=True).first(),
            category_ids=dict(DataCategory.objects.values_list("code", "id")),
        )


# Restricts an attribute query to residents whose consent covers a category: (resident field,
# category) -> condition.
_Covering = Callable[[str, str], Q]


def _read_and_log(
    *,
    purpose: str,
    reader: Reader,
    asked: frozenset[str],
    catalogue: _Catalogue,
    scope: _Scope,
    limit: int | None,
    require_all: bool = False,
) -> tuple[ProfileChunk, bool]:
    """One chunk, logged; and whether residents in scope are left for another chunk.

    ``require_all``: read only residents whose consent covers every category asked.
    """
    with _snapshot():
        grants = _grants_q(catalogue, reader=reader)
        permitted = _permitted_residents(
            grants, catalogue, asked, scope, limit, require_all=require_all
        )
        _after_permission_query()
        if scope.ids is None and permitted.resident_ids:
            scope = _Scope.between(permitted.resident_ids[0], permitted.resident_ids[-1])
        chunk = _load_chunk(
            purpose=purpose,
            asked=asked,
            resident_ids=permitted.resident_ids,
            masks=permitted.masks,
            scope=scope,
            permitted=_covered_by(grants, catalogue, scope),
        )
    _log_reads(chunk, reader=reader)
    return chunk, permitted.more


@contextmanager
def _snapshot() -> Iterator[None]:
    """One view of the database for a chunk's permission query and attribute queries.

    PostgreSQL's default READ COMMITTED gives each statement its own snapshot; a REPEATABLE
    READ transaction gives the whole chunk one. SQLite's transaction is a snapshot already.
    Inside a caller's transaction the chunk shares it (and its isolation level).
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic(savepoint=False):
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _transaction_is_a_snapshot() -> bool:
    """Does the transaction the connection is in see one state of the database throughout?
    SQLite's always does; PostgreSQL's only at REPEATABLE READ or above (None: the server's
    default, READ COMMITTED unless configured otherwise, so taken as no snapshot)."""
    if connection.vendor == "sqlite":
        return True
    level = getattr(connection.connection, "isolation_level", None)
    return level is not None and level >= IsolationLevel.REPEATABLE_READ


def _after_permission_query() -> None:
    """Runs between a chunk's permission query and its attribute queries: the seam where a
    test commits a withdrawal from another connection to show the chunk does not see it."""


def _grants_q(catalogue: _Catalogue, *, reader: Reader) -> Q:
    # Usable terms and expiry exactly as everywhere else; evaluated per chunk, so a terms
    # version published during a long read applies from the next chunk on.
    return active_grants_q(recipient=reader.recipient) & Q(purpose_id=catalogue.purpose_id)


class _PermittedResidents(NamedTuple):
    resident_ids: list[int]
    masks: list[int]
    more: bool  # residents in scope are left for the next chunk


def _permitted_residents(
    grants: Q,
    catalogue: _Catalogue,
    asked: frozenset[str],
    scope: _Scope,
    limit: int | None,
    *,
    require_all: bool = False,
) -> _PermittedResidents:
    """The residents in scope the purpose may read something asked of (with ``require_all``:
    everything asked of), in id order (the first ``limit`` of them), with the asked categories
    each may be read of, as bits."""
    bits = {catalogue.category_ids[code]: category_mask([code]) for code in asked}
    # A resident has one state per purpose and category: the sum of the bits is their union.
    mask = Sum(
        Case(
            *(When(category_id=category_id, then=Value(bit)) for category_id, bit in bits.items()),
            default=Value(0),
        )
    )
    rows: QuerySet[ConsentState, tuple[int, int]] = (
        ConsentState.objects.filter(grants, scope.q(), category_id__in=list(bits))
        .values("resident_id")
        .annotate(mask=mask)
        .filter(**({"mask": category_mask(asked)} if require_all else {}))
        .order_by("resident_id")
        .values_list("resident_id", "mask")
    )
    fetched = list(rows if limit is None else rows[: limit + 1])
    more = limit is not None and len(fetched) > limit
    if more:
        fetched = fetched[:limit]
    return _PermittedResidents(
        [resident_id for resident_id, _mask in fetched], [mask for _id, mask in fetched], more
    )


def _covered_by(grants: Q, catalogue: _Catalogue, scope: _Scope) -> _Covering:
    """Attribute queries keep only residents whose grant covers the category: the database
    never hands over a row the purpose may not read."""

    def permitted(resident_field: str, category: str) -> Q:
        covering = ConsentState.objects.filter(
            grants, scope.q(), category_id=catalogue.category_ids[category]
        )
        return Q(**{f"{resident_field}__in": covering.values("resident_id")})

    return permitted


def _everything_of_the_subject(resident_field: str, category: str) -> Q:
    return Q()


# ------------------------------------------------------------------------------------------------
# Attributes, one query per category asked for
# ------------------------------------------------------------------------------------------------


def _load_chunk(
    *,
    purpose: str,
    asked: frozenset[str],
    resident_ids: list[int],
    masks: list[int],
    scope: _Scope,
    permitted: _Covering,
) -> ProfileChunk:
    columns: dict[str, Any] = {}
    if resident_ids:  # an empty chunk is never handed out: no need to query for it
        row_of = {resident_id: row for row, resident_id in enumerate(resident_ids)}
        where = _Where(scope=scope, permitted=permitted, row_of=row_of)
        for category in sorted(asked):
            loader = _LOADERS.get(category)
            if loader is not None:
                columns.update(loader(where, purpose))
    return ProfileChunk(
        purpose=purpose,
        asked=asked,
        resident_ids=resident_ids,
        allowed_masks=masks,
        **columns,
    )


@dataclass(frozen=True)
class _Where:
    """What an attribute query of one chunk filters on, and where each resident's row is."""

    scope: _Scope
    permitted: _Covering
    row_of: dict[int, int]

    def q(self, category: str, resident_field: str = "resident_id") -> Q:
        return self.scope.q(resident_field) & self.permitted(resident_field, category)

    def empty_column(self) -> list[Any]:
        return [None] * len(self.row_of)


def _load_age(where: _Where, purpose: str) -> dict[str, Any]:
    bands, years = where.empty_column(), where.empty_column()
    band_of: dict[int | None, str | None] = {}
    rows = ResidentProfile.objects.filter(
        where.q(Category.AGE), birth_year__isnull=False
    ).values_list("resident_id", "birth_year")
    for resident_id, birth_year in rows:
        row = where.row_of[resident_id]
        if birth_year not in band_of:
            band_of[birth_year] = age_band(birth_year)
        bands[row] = band_of[birth_year]
        years[row] = birth_year
    columns: dict[str, Any] = {"age_bands": bands}
    if purpose == SUBJECT_ACCESS:
        columns["birth_years"] = years
    return columns


def _load_language(where: _Where, purpose: str) -> dict[str, Any]:
    languages, large, easy = where.empty_column(), where.empty_column(), where.empty_column()
    rows = ResidentProfile.objects.filter(where.q(Category.LANGUAGE)).values_list(
        "resident_id", "preferred_language", "needs_large_text", "needs_easy_japanese"
    )
    for resident_id, language, needs_large_text, needs_easy_japanese in rows:
        row = where.row_of[resident_id]
        languages[row] = language or None
        large[row] = needs_large_text
        easy[row] = needs_easy_japanese
    return {
        "preferred_languages": languages,
        "needs_large_text": large,
        "needs_easy_japanese": easy,
    }


def _load_location(where: _Where, purpose: str) -> dict[str, Any]:
    latitudes, longitudes = where.empty_column(), where.empty_column()
    rows = ResidentProfile.objects.filter(
        where.q(Category.LOCATION), home_latitude__isnull=False
    ).values_list("resident_id", "home_latitude", "home_longitude")
    for resident_id, latitude, longitude in rows:
        row = where.row_of[resident_id]
        latitudes[row] = latitude
        longitudes[row] = longitude
    return {"home_latitudes": latitudes, "home_longitudes": longitudes}


def _load_places(where: _Where, purpose: str) -> dict[str, Any]:
    rows = (
        ResidentPlace.objects.filter(where.q(Category.PLACES))
        .order_by("resident_id", "id")
        .values_list("resident_id", "id", "kind", "area_id")
    )
    index, ids, kinds, areas = _columns_of(where, rows, 4)
    return {
        "place_resident_index": index,
        "place_ids": ids,
        "place_kinds": kinds,
        "place_area_ids": areas,
    }


def _load_children(where: _Where, purpose: str) -> dict[str, Any]:
    rows = (
        ResidentChild.objects.filter(where.q(Category.HOUSEHOLD))
        .order_by("resident_id", "id")
        .values_list("resident_id", "id", "school_id", "grade")
    )
    index, ids, schools, grades = _columns_of(where, rows, 4)
    return {
        "child_resident_index": index,
        "child_ids": ids,
        "child_school_ids": schools,
        "child_grades": grades,
    }


def _load_interests(where: _Where, purpose: str) -> dict[str, Any]:
    through = ResidentProfile.interests.through
    rows = (
        through.objects.filter(where.q(Category.INTERESTS, "residentprofile__resident_id"))
        .order_by("residentprofile__resident_id", "interesttag__position", "interesttag__code")
        .values_list("residentprofile__resident_id", "interesttag__code")
    )
    index, codes = _columns_of(where, rows, 2)
    return {"interest_resident_index": index, "interest_codes": codes}


def _load_interactions(where: _Where, purpose: str) -> dict[str, Any]:
    rows = (
        ResidentInteraction.objects.filter(where.q(Category.INTERACTIONS))
        .order_by("resident_id", "notice_id")
        .values_list(
            "resident_id",
            "notice_id",
            "shown_count",
            "first_shown_at",
            "opened_at",
            "saved_at",
            "dismissed_at",
        )
    )
    index, notices, shown, first_shown, opened, saved, dismissed = _columns_of(where, rows, 7)
    return {
        "interaction_resident_index": index,
        "interaction_notice_ids": notices,
        "interaction_shown_counts": shown,
        "interaction_first_shown_at": first_shown,
        "interaction_opened_at": opened,
        "interaction_saved_at": saved,
        "interaction_dismissed_at": dismissed,
    }


def _columns_of(where: _Where, rows: Iterable[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows (resident id, values…) as ``width`` columns, the id turned into its row index."""
    columns = [list(column) for column in zip(*rows, strict=True)] or [[] for _ in range(width)]
    row_of = where.row_of
    columns[0] = [row_of[resident_id] for resident_id in columns[0]]
    return columns


_LOADERS: dict[str, Callable[[_Where, str], dict[str, Any]]] = {
    Category.AGE: _load_age,
    Category.LANGUAGE: _load_language,
    Category.LOCATION: _load_location,
    Category.PLACES: _load_places,
    Category.HOUSEHOLD: _load_children,
    Category.INTERESTS: _load_interests,
    Category.INTERACTIONS: _load_interactions,
}


def _grouped(
    index: list[int] | None, *columns: list[Any] | None, make: Callable[..., Any]
) -> dict[int, list[Any]]:
    """Entries of a multi-valued category, made from their columns, by resident row."""
    grouped: dict[int, list[Any]] = defaultdict(list)
    if index is None:
        return grouped
    present = [column for column in columns if column is not None]
    for row, values in zip(index, zip(*present, strict=True), strict=True):
        grouped[row].append(make(*values))
    return grouped


def _at(column: list[Any] | None, row: int) -> Any:
    return None if column is None else column[row]


def _location(chunk: ProfileChunk, row: int) -> tuple[Decimal, Decimal] | None:
    latitude, longitude = _at(chunk.home_latitudes, row), _at(chunk.home_longitudes, row)
    return None if latitude is None or longitude is None else (latitude, longitude)


# ------------------------------------------------------------------------------------------------
# The data-use log: one row per (resident, purpose, recipient, reader, day), counted up
# ------------------------------------------------------------------------------------------------

_KEY = (
    "resident_id",
    "purpose_code",
    "recipient_code",
    "reader_kind",
    "reader_name",
    "staff_account_id",
    "day",
)
_COUNTED = ("category_mask", "use_count", "first_at", "last_at")
_INCOMING = "consent_data_use_incoming"


@dataclass(frozen=True)
class _Use:
    """What every row of one chunk's log shares."""

    purpose: str
    recipient: str
    reader_kind: str
    reader_name: str
    staff_account_id: int
    day: date
    at: datetime = field(repr=False, compare=False)  # the day is what counts


def _log_reads(chunk: ProfileChunk, *, reader: Reader) -> None:
    if not chunk.resident_ids:
        return
    use = _use_of(chunk.purpose, reader)
    if connection.vendor == "postgresql" and len(chunk) > COPY_THRESHOLD:
        # No savepoint inside a caller's transaction: a failed log write fails theirs too.
        with transaction.atomic(savepoint=False):
            _upsert_by_copy(chunk, use)
        return
    rows = zip(chunk.resident_ids, chunk.allowed_masks, strict=True)
    _upsert_rows([(use, resident_id, mask) for resident_id, mask in rows])


def _log_uses(resident_id: int, uses: list[tuple[str, Reader, int]]) -> None:
    """One resident's reads for several purposes, (purpose, reader, categories read as bits):
    one write; a purpose that read nothing is not logged."""
    now = timezone.now()
    _upsert_rows(
        [
            (_use_of(purpose, reader, now), resident_id, mask)
            for purpose, reader, mask in uses
            if mask
        ]
    )


def _use_of(purpose: str, reader: Reader, now: datetime | None = None) -> _Use:
    at = now or timezone.now()
    return _Use(
        purpose=purpose,
        recipient=reader.recipient,
        # Refuses an unknown kind before anything is written.
        reader_kind=ReaderKind(reader.kind).value,
        reader_name=reader.name[:100],
        staff_account_id=reader.staff_id or 0,
        day=timezone.localdate(at),
        at=at,
    )


# Rows per INSERT statement of the log: 500 × 11 columns is 5,500 bound parameters, within
# SQLite's limit (32,766 since 3.32).
_ROWS_PER_STATEMENT = 500


def _upsert_rows(rows: list[tuple[_Use, int, int]]) -> None:
    """INSERT … VALUES … ON CONFLICT DO UPDATE of (use, resident, categories as bits): one
    statement for up to 500 rows (a page's reads cost one round trip), on PostgreSQL and on
    SQLite (3.24 and later). Rows of the same use and resident are merged first, as one
    statement may not update a row twice."""
    counted: dict[tuple[_Use, int], tuple[int, int]] = {}
    for use, resident_id, mask in rows:
        mask_before, count_before = counted.get((use, resident_id), (0, 0))
        counted[use, resident_id] = (mask_before | mask, count_before + 1)
    values = [
        _log_row(use, resident_id, mask, count)
        for (use, resident_id), (mask, count) in counted.items()
    ]
    batches = [
        values[start : start + _ROWS_PER_STATEMENT]
        for start in range(0, len(values), _ROWS_PER_STATEMENT)
    ]
    columns = (*_KEY, *_COUNTED)
    one_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    # One statement is atomic on its own; several go in one transaction (no savepoint inside a
    # caller's: a failed log write fails the caller's transaction too).
    atomic = transaction.atomic(savepoint=False) if len(batches) > 1 else nullcontext()
    with atomic, connection.cursor() as cursor:
        for batch in batches:
            cursor.execute(
                f"INSERT INTO {_table()} ({_names(columns)}) "
                f"VALUES {', '.join([one_row] * len(batch))} {_on_conflict()}",
                [value for row in batch for value in row],
            )


def _log_row(use: _Use, resident_id: int, mask: int, count: int) -> tuple[Any, ...]:
    """A row of the log in the order of _KEY and _COUNTED."""
    at = connection.ops.adapt_datetimefield_value(use.at)
    day = connection.ops.adapt_datefield_value(use.day)
    return (
        resident_id,
        use.purpose,
        use.recipient,
        use.reader_kind,
        use.reader_name,
        use.staff_account_id,
        day,
        mask,
        count,
        at,
        at,
    )


def _upsert_by_copy(chunk: ProfileChunk, use: _Use) -> None:
    """PostgreSQL: COPY the chunk into a temporary table, then one INSERT … ON CONFLICT.

    Rows go in resident order, so that two readers logging the same residents at once lock
    their rows in the same order rather than deadlock.
    """
    incoming = connection.ops.quote_name(_INCOMING)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {incoming} "
            "(resident_id bigint NOT NULL, category_mask integer NOT NULL)"
        )
        raw = cursor.cursor  # the psycopg cursor underneath Django's wrapper
        with raw.copy(f"COPY {incoming} (resident_id, category_mask) FROM STDIN") as copy:
            for resident_id, mask in zip(chunk.resident_ids, chunk.allowed_masks, strict=True):
                copy.write_row((resident_id, mask))
        cursor.execute(
            f"INSERT INTO {_table()} ({_names((*_KEY, *_COUNTED))}) "
            "SELECT resident_id, %s, %s, %s, %s, %s, %s::date, "
            "category_mask, 1, %s::timestamptz, %s::timestamptz "
            f"FROM {incoming} ORDER BY resident_id {_on_conflict()}",
            [
                use.purpose,
                use.recipient,
                use.reader_kind,
                use.reader_name,
                use.staff_account_id,
                use.day,
                use.at,
                use.at,
            ],
        )
        # Not ON COMMIT DELETE ROWS: that would empty the table at every commit of the session.
        cursor.execute(f"TRUNCATE {incoming}")


def _on_conflict() -> str:
    table = _table()
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    return (
        f"ON CONFLICT ({_names(_KEY)}) DO UPDATE SET "
        f"use_count = {table}.use_count + excluded.use_count, "
        f"category_mask = {table}.category_mask | excluded.category_mask, "
        f"first_at = {least}({table}.first_at, excluded.first_at), "
        f"last_at = {greatest}({table}.last_at, excluded.last_at)"
    )


def _table() -> str:
    return connection.ops.quote_name(DataUseEvent._meta.db_table)


def _names(columns: Iterable[str]) -> str:
    return ", ".join(connection.ops.quote_name(column) for column in columns)


def _batches(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(ids)
    while batch := list(islice(iterator, size)):
        yield batch
