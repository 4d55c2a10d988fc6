"""The consent gate: the ONLY way code reads resident attributes.

Ask it which categories a purpose may read for a resident, and it returns a projection of the
profile holding only those, writing every read to the data-use log. Nothing here writes
attributes; erasure lives in portal.residents.services.

A test (tests/consent/test_gate_is_the_only_reader.py) fails if another module imports the
resident attribute models.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Literal, NamedTuple, TypedDict

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from consent.catalogue import SUBJECT_ACCESS, Category, RecipientCode
from consent.models import ConsentState, ConsentTerms, DataUseEvent, ReaderKind
from consent.selectors import active_grants_q
from portal.models import ResidentChild, ResidentPlace, ResidentProfile

BULK_CHUNK = 2000
# Above this many rows, PostgreSQL gets the data-use log through COPY instead of INSERT.
COPY_THRESHOLD = 500
AGE_BAND_WIDTH = 10


@dataclass(frozen=True)
class Reader:
    """Who reads: a view, a task, or a staff member (with their account id), and on whose
    behalf: the recipient must be one the resident's consent names (the city by default; a
    task run by the portal operator says so)."""

    kind: Literal["view", "task", "staff"]
    name: str
    staff_id: int | None = None
    recipient: str = RecipientCode.CITY


@dataclass(frozen=True)
class PlaceView:
    id: int
    kind: str
    area_id: int


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
    preferred_language: str | None = None
    needs_large_text: bool | None = None
    needs_easy_japanese: bool | None = None
    home_location: tuple[Decimal, Decimal] | None = None

    def has(self, category: str) -> bool:
        return category in self.categories


def allowed_categories(
    *, resident_id: int, purpose: str, recipient: str | None = None, now: datetime | None = None
) -> frozenset[str]:
    """The categories ``purpose`` may read of this resident now (for ``recipient``, if named)."""
    return allowed_categories_bulk(
        resident_ids=[resident_id], purpose=purpose, recipient=recipient, now=now
    ).get(resident_id, frozenset())


def allowed_categories_bulk(
    *,
    resident_ids: Iterable[int],
    purpose: str,
    recipient: str | None = None,
    now: datetime | None = None,
) -> dict[int, frozenset[str]]:
    allowed: dict[int, set[str]] = defaultdict(set)
    condition = active_grants_q(now=now) & Q(purpose__code=purpose)
    if recipient is not None:
        condition &= Q(terms_id__in=_terms_naming(recipient))
    for chunk in _chunks(resident_ids):
        rows = ConsentState.objects.filter(condition, resident_id__in=chunk).values_list(
            "resident_id", "category__code"
        )
        for resident_id, category in rows:
            allowed[resident_id].add(category)
    return {resident_id: frozenset(codes) for resident_id, codes in allowed.items()}


def read_profile(*, resident_id: int, purpose: str, reader: Reader) -> ProfileProjection:
    """The projection of one resident's profile for ``purpose``; the read is logged."""
    return read_profiles(resident_ids=[resident_id], purpose=purpose, reader=reader)[resident_id]


def read_profiles(
    *,
    resident_ids: Iterable[int],
    purpose: str,
    reader: Reader,
) -> dict[int, ProfileProjection]:
    """Projections for many residents with a fixed number of queries per chunk of 2,000.

    The data-use log gets one row per resident whose data was actually read, written in bulk.
    """
    ids = list(dict.fromkeys(resident_ids))
    allowed = allowed_categories_bulk(resident_ids=ids, purpose=purpose, recipient=reader.recipient)
    return _project_and_log(ids, allowed, purpose=purpose, reader=reader)


def read_own_data(*, resident_id: int, reader: Reader) -> ProfileProjection:
    """Everything stored about a resident, for that resident (the "my data" page, export)."""
    everything = {resident_id: frozenset(Category.values)}
    return _project_and_log([resident_id], everything, purpose=SUBJECT_ACCESS, reader=reader)[
        resident_id
    ]


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


def _project_and_log(
    ids: Sequence[int],
    allowed: dict[int, frozenset[str]],
    *,
    purpose: str,
    reader: Reader,
) -> dict[int, ProfileProjection]:
    readable = [resident_id for resident_id in ids if allowed.get(resident_id)]
    loaded = _load_attributes(readable, allowed, purpose=purpose)
    projections = {
        resident_id: loaded.get(
            resident_id,
            ProfileProjection(resident_id=resident_id, purpose=purpose, categories=frozenset()),
        )
        for resident_id in ids
    }
    _log_reads(readable, allowed, purpose=purpose, reader=reader)
    return projections


def _load_attributes(
    ids: Sequence[int], allowed: dict[int, frozenset[str]], *, purpose: str
) -> dict[int, ProfileProjection]:
    def wanting(category: str) -> list[int]:
        return [resident_id for resident_id in ids if category in allowed[resident_id]]

    profile_categories = {Category.AGE, Category.INTERESTS, Category.LANGUAGE, Category.LOCATION}
    profiles = _profiles_of([i for i in ids if allowed[i] & profile_categories])
    interests = _interests_of(wanting(Category.INTERESTS))
    places = _places_of(wanting(Category.PLACES))
    children = _children_of(wanting(Category.HOUSEHOLD))

    projections = {}
    for resident_id in ids:
        codes = allowed[resident_id]
        profile = profiles.get(resident_id)
        projections[resident_id] = ProfileProjection(
            resident_id=resident_id,
            purpose=purpose,
            categories=codes,
            **_profile_fields(profile, codes, purpose=purpose),
            places=tuple(places.get(resident_id, ())) if Category.PLACES in codes else (),
            children=tuple(children.get(resident_id, ())) if Category.HOUSEHOLD in codes else (),
            interests=tuple(interests.get(resident_id, ())) if Category.INTERESTS in codes else (),
        )
    return projections


class _ProfileFields(TypedDict, total=False):
    birth_year: int | None
    age_band: str | None
    preferred_language: str | None
    needs_large_text: bool
    needs_easy_japanese: bool
    home_location: tuple[Decimal, Decimal]


def _profile_fields(
    profile: _ProfileRow | None, codes: frozenset[str], *, purpose: str
) -> _ProfileFields:
    fields: _ProfileFields = {}
    if profile is None:
        return fields
    if Category.AGE in codes:
        fields["age_band"] = age_band(profile.birth_year)
        if purpose == SUBJECT_ACCESS:
            # Purposes see the band only; the year itself is shown to the resident alone.
            fields["birth_year"] = profile.birth_year
    if Category.LANGUAGE in codes:
        fields["preferred_language"] = profile.preferred_language or None
        fields["needs_large_text"] = profile.needs_large_text
        fields["needs_easy_japanese"] = profile.needs_easy_japanese
    if Category.LOCATION in codes and profile.home_latitude is not None:
        assert profile.home_longitude is not None
        fields["home_location"] = (profile.home_latitude, profile.home_longitude)
    return fields


class _ProfileRow(NamedTuple):
    birth_year: int | None
    preferred_language: str
    needs_large_text: bool
    needs_easy_japanese: bool
    home_latitude: Decimal | None
    home_longitude: Decimal | None


def _profiles_of(ids: Sequence[int]) -> dict[int, _ProfileRow]:
    # Plain rows rather than model instances: scoring reads 120,000 of them at a time.
    profiles: dict[int, _ProfileRow] = {}
    for chunk in _chunks(ids):
        rows = ResidentProfile.objects.filter(resident_id__in=chunk).values_list(
            "resident_id", *_ProfileRow._fields
        )
        for resident_id, *values in rows:
            profiles[resident_id] = _ProfileRow(*values)
    return profiles


def _interests_of(ids: Sequence[int]) -> dict[int, list[str]]:
    interests: dict[int, list[str]] = defaultdict(list)
    through = ResidentProfile.interests.through
    for chunk in _chunks(ids):
        rows = (
            through.objects.filter(residentprofile__resident_id__in=chunk)
            .order_by("interesttag__position", "interesttag__code")
            .values_list("residentprofile__resident_id", "interesttag__code")
        )
        for resident_id, code in rows:
            interests[resident_id].append(code)
    return interests


def _places_of(ids: Sequence[int]) -> dict[int, list[PlaceView]]:
    places: dict[int, list[PlaceView]] = defaultdict(list)
    for chunk in _chunks(ids):
        rows = (
            ResidentPlace.objects.filter(resident_id__in=chunk)
            .order_by("id")
            .values_list("resident_id", "id", "kind", "area_id")
        )
        for resident_id, place_id, kind, area_id in rows:
            places[resident_id].append(PlaceView(id=place_id, kind=kind, area_id=area_id))
    return places


def _children_of(ids: Sequence[int]) -> dict[int, list[ChildView]]:
    children: dict[int, list[ChildView]] = defaultdict(list)
    for chunk in _chunks(ids):
        rows = (
            ResidentChild.objects.filter(resident_id__in=chunk)
            .order_by("id")
            .values_list("resident_id", "id", "school_id", "grade")
        )
        for resident_id, child_id, school_id, grade in rows:
            children[resident_id].append(ChildView(id=child_id, school_id=school_id, grade=grade))
    return children


def _log_reads(
    ids: Sequence[int], allowed: dict[int, frozenset[str]], *, purpose: str, reader: Reader
) -> None:
    if not ids:
        return
    reader_kind = ReaderKind(reader.kind)  # refuses an unknown kind before anything is written
    now = timezone.now()
    if connection.vendor == "postgresql" and len(ids) > COPY_THRESHOLD:
        _copy_data_uses(ids, allowed, purpose=purpose, reader=reader, kind=reader_kind, now=now)
        return
    DataUseEvent.objects.bulk_create(
        (
            DataUseEvent(
                resident_id=resident_id,
                purpose_code=purpose,
                category_codes=sorted(allowed[resident_id]),
                reader_kind=reader_kind,
                reader_name=reader.name[:100],
                staff_id=reader.staff_id,
                recipient_code=_logged_recipient(purpose, reader),
                at=now,
            )
            for resident_id in ids
        ),
        batch_size=BULK_CHUNK,
    )


def _copy_data_uses(
    ids: Sequence[int],
    allowed: dict[int, frozenset[str]],
    *,
    purpose: str,
    reader: Reader,
    kind: ReaderKind,
    now: datetime,
) -> None:
    """PostgreSQL's COPY: a scoring run logs a row per resident, and COPY writes 120,000 rows
    in a fraction of the time INSERTs take."""
    table = DataUseEvent._meta.db_table
    columns = (
        "resident_id, purpose_code, category_codes, reader_kind, reader_name, staff_id, "
        "recipient_code, at"
    )
    recipient = _logged_recipient(purpose, reader)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor underneath Django's wrapper
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for resident_id in ids:
                copy.write_row(
                    (
                        resident_id,
                        purpose,
                        json.dumps(sorted(allowed[resident_id])),
                        kind.value,
                        reader.name[:100],
                        reader.staff_id,
                        recipient,
                        now,
                    )
                )


def _logged_recipient(purpose: str, reader: Reader) -> str:
    # The resident reading their own data is nobody's recipient.
    return "" if purpose == SUBJECT_ACCESS else reader.recipient


def _terms_naming(recipient: str) -> list[int]:
    return [
        terms_id
        for terms_id, codes in ConsentTerms.objects.values_list("id", "recipient_codes")
        if recipient in codes
    ]


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    iterator = iter(ids)
    while chunk := list(islice(iterator, BULK_CHUNK)):
        yield chunk
