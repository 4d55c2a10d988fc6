"""Importers of the places a real city publishes: areas (municipality → district →
neighbourhood, JSON), designated shelters and evacuation sites (the GSI's GeoJSON), schools (CSV),
and the address matching that puts each site in the smallest area its address names.

Each importer reads and checks every record first, then upserts on a natural key (area and
school ``code``, shelter ``(kind, source_id)``) inside the caller's transaction, counting created,
updated and unchanged rows: running it twice changes nothing, and a bad file changes nothing.
Rows in the database but not in the file are left alone: residents' places, notices and other
records may point at them. ``manage.py import_places`` is the command-line entry point;
the demo (portal.demo) loads Aizuwakamatsu's files with the same code.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.db import models, transaction

from portal.models import Area, School, Shelter
from portal.places.selectors import forget_city_overview

COORDINATE_QUANTUM = Decimal("0.000001")
# Shelter.name_en's length.
SHELTER_NAME_MAX = 200
# Japan lies within these bounds (the same as a resident's home location is checked against).
LATITUDE_RANGE = (Decimal("20"), Decimal("46"))
LONGITUDE_RANGE = (
    Decimal("122"),
    Decimal("154"),
)  # the models keep six decimal places (about 0.1 m)

# GSI column → Shelter field. Each column holds "1" when the site is designated for that hazard.
# The 指定避難所 file has no hazard columns: a shelter is a place to stay, not to flee to.
GSI_HAZARD_FIELDS: dict[str, str] = {
    "洪水": "for_flood",
    "崖崩れ、土石流及び地滑り": "for_landslide",
    "高潮": "for_storm_surge",
    "地震": "for_earthquake",
    "津波": "for_tsunami",
    "大規模な火事": "for_large_fire",
    "内水氾濫": "for_inland_flooding",
    "火山現象": "for_volcano",
}

# The file name's prefix says which of the two GSI data sets a file is.
GSI_FILE_KINDS: dict[str, Shelter.Kind] = {
    "emergency_": Shelter.Kind.EMERGENCY_SITE,
    "evacuation_": Shelter.Kind.SHELTER,
}


class PlaceDataError(ValueError):
    """A places file is missing or malformed; nothing has been written."""


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------
@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def add(self, other: UpsertCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass
class PlacesReport:
    areas: UpsertCounts
    shelters: UpsertCounts
    schools: UpsertCounts
    # Addresses that name no known neighbourhood, so their place was attached to a coarser area.
    coarse_placements: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# Areas
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AreaRecord:
    code: str
    kind: Area.Kind
    name_ja: str
    name_en: str
    name_kana: str
    latitude: Decimal | None
    longitude: Decimal | None
    parent_code: str | None


def read_area_records(*, path: Path) -> list[AreaRecord]:
    """Flatten ``areas.json`` into records, parents before children."""
    document = _read_json(path)
    municipalities: list[AreaRecord] = []
    districts: list[AreaRecord] = []
    neighbourhoods: list[AreaRecord] = []
    try:
        for municipality in document["municipalities"]:
            municipalities.append(_area_record(municipality, Area.Kind.MUNICIPALITY, None))
            for district in municipality.get("districts", []):
                districts.append(_area_record(district, Area.Kind.DISTRICT, municipality["code"]))
                for neighbourhood in district.get("neighbourhoods", []):
                    neighbourhoods.append(
                        _area_record(neighbourhood, Area.Kind.NEIGHBOURHOOD, district["code"])
                    )
    except (KeyError, TypeError) as exc:
        raise PlaceDataError(f"{path}: malformed area entry ({exc!r})") from exc
    records = municipalities + districts + neighbourhoods
    codes = [record.code for record in records]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise PlaceDataError(f"{path}: duplicate area codes {duplicates}")
    return records


def _area_record(entry: Mapping[str, Any], kind: Area.Kind, parent_code: str | None) -> AreaRecord:
    return AreaRecord(
        code=_text(entry, "code"),
        kind=kind,
        name_ja=_text(entry, "name_ja"),
        name_en=_text(entry, "name_en", required=False),
        name_kana=_text(entry, "name_kana", required=False),
        latitude=_coordinate(entry.get("latitude"), LATITUDE_RANGE),
        longitude=_coordinate(entry.get("longitude"), LONGITUDE_RANGE),
        parent_code=parent_code,
    )


def upsert_areas(*, records: Sequence[AreaRecord]) -> UpsertCounts:
    """Upsert areas level by level, so that each level can point at its parents' ids."""
    counts = UpsertCounts()
    for kind in (Area.Kind.MUNICIPALITY, Area.Kind.DISTRICT, Area.Kind.NEIGHBOURHOOD):
        level = [record for record in records if record.kind == kind]
        parent_codes = {record.parent_code for record in level if record.parent_code}
        parent_ids = dict(Area.objects.filter(code__in=parent_codes).values_list("code", "id"))
        rows = []
        for record in level:
            parent_id = None
            if record.parent_code is not None:
                if record.parent_code not in parent_ids:
                    raise PlaceDataError(f"area {record.code}: unknown parent {record.parent_code}")
                parent_id = parent_ids[record.parent_code]
            rows.append(
                {
                    "code": record.code,
                    "kind": record.kind.value,
                    "parent_id": parent_id,
                    "name_ja": record.name_ja,
                    "name_en": record.name_en,
                    "name_kana": record.name_kana,
                    "latitude": record.latitude,
                    "longitude": record.longitude,
                }
            )
        counts.add(upsert_rows(model=Area, key_fields=("code",), rows=rows))
    return counts


class Precision(StrEnum):
    NEIGHBOURHOOD = "neighbourhood"
    DISTRICT = "district"
    MUNICIPALITY = "municipality"


@dataclass(frozen=True)
class AddressIndex:
    """Finds the most precise demo area an address names.

    Japanese addresses run from large to small: prefecture, municipality, town (町名 or
    大字), then block numbers or 字. So after the municipality's name the rest of the address
    starts with the neighbourhood's name, and the longest matching name wins (山見町 before 山見).
    Failing that, a district whose name starts the rest (河東 for 河東町…) is taken, and failing
    that the municipality itself.
    """

    # municipality name → (municipality code, [(district name, code)], [(neighbourhood, code)])
    municipalities: Mapping[str, tuple[str, list[tuple[str, str]], list[tuple[str, str]]]]

    @classmethod
    def from_records(cls, records: Sequence[AreaRecord]) -> AddressIndex:
        by_code = {record.code: record for record in records}
        index: dict[str, tuple[str, list[tuple[str, str]], list[tuple[str, str]]]] = {}
        for record in records:
            if record.kind == Area.Kind.MUNICIPALITY:
                index[record.name_ja] = (record.code, [], [])
        for record in records:
            if record.kind == Area.Kind.MUNICIPALITY:
                continue
            municipality = by_code[record.parent_code or ""]
            if municipality.kind != Area.Kind.MUNICIPALITY:
                municipality = by_code[municipality.parent_code or ""]
            _code, districts, neighbourhoods = index[municipality.name_ja]
            names = districts if record.kind == Area.Kind.DISTRICT else neighbourhoods
            if any(name == record.name_ja for name, _ in names):
                raise PlaceDataError(f"two {record.kind}s named {record.name_ja} in one place")
            names.append((record.name_ja, record.code))
        for _code, districts, neighbourhoods in index.values():
            districts.sort(key=lambda item: len(item[0]), reverse=True)
            neighbourhoods.sort(key=lambda item: len(item[0]), reverse=True)
        return cls(municipalities=index)

    def locate(self, address: str) -> tuple[str, Precision]:
        """The code of the smallest area the address names, and how precise that is."""
        for municipality_name, (code, districts, neighbourhoods) in self.municipalities.items():
            _before, found, rest = address.partition(municipality_name)
            if not found:
                continue
            # 大字 ("large section") is often written and often left out: 一箕町大字八幡 and
            # 一箕町八幡 are the same place.
            rest = rest.replace("大字", "").strip()
            for name, area_code in neighbourhoods:
                if rest.startswith(name):
                    return area_code, Precision.NEIGHBOURHOOD
            for name, area_code in districts:
                if rest.startswith(name):
                    return area_code, Precision.DISTRICT
            return code, Precision.MUNICIPALITY
        raise PlaceDataError(f"address {address!r} is in none of the demo municipalities")


# ------------------------------------------------------------------------------------------------
# Shelters
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShelterRecord:
    kind: Shelter.Kind
    source_id: str
    name_ja: str
    address: str
    latitude: Decimal
    longitude: Decimal
    hazards: frozenset[str]  # Shelter field names that are true


def read_gsi_shelters(*, directory: Path) -> list[ShelterRecord]:
    """Read every GSI GeoJSON file in ``directory``; the file name's prefix gives the kind."""
    paths = sorted(directory.glob("*.geojson"))
    if not paths:
        raise PlaceDataError(f"{directory}: no GSI shelter files (*.geojson)")
    records: list[ShelterRecord] = []
    for path in paths:
        kind = next(
            (kind for prefix, kind in GSI_FILE_KINDS.items() if path.name.startswith(prefix)),
            None,
        )
        if kind is None:
            raise PlaceDataError(f"{path}: name must start with one of {sorted(GSI_FILE_KINDS)}")
        records.extend(_gsi_feature_records(path, kind))
    keys = [(record.kind, record.source_id) for record in records]
    if len(set(keys)) != len(keys):
        raise PlaceDataError(f"{directory}: a (kind, 共通ID) pair occurs twice")
    return records


def _gsi_feature_records(path: Path, kind: Shelter.Kind) -> list[ShelterRecord]:
    document = _read_json(path)
    records = []
    try:
        for feature in document["features"]:
            properties = feature["properties"]
            longitude, latitude = feature["geometry"]["coordinates"][:2]
            records.append(
                ShelterRecord(
                    kind=kind,
                    source_id=_text(properties, "共通ID", allow_number=True),
                    # Some names end in an ideographic space (U+3000); str.strip() removes it.
                    name_ja=_text(properties, "施設・場所名"),
                    address=_text(properties, "住所"),
                    latitude=_required_coordinate(latitude, LATITUDE_RANGE),
                    longitude=_required_coordinate(longitude, LONGITUDE_RANGE),
                    hazards=frozenset(
                        field_name
                        for column, field_name in GSI_HAZARD_FIELDS.items()
                        if str(properties.get(column) or "").strip() == "1"
                    ),
                )
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlaceDataError(f"{path}: malformed feature ({exc!r})") from exc
    return records


def read_shelter_names(*, path: Path) -> dict[str, str]:
    """Read a CSV of ``name_ja,name_en``: the English (or romanised) name of every site of that
    Japanese name. The GSI's data has none; a city keeps this file beside it."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not {"name_ja", "name_en"} <= set(reader.fieldnames or ()):
                raise PlaceDataError(f"{path}: the header must name the columns name_ja,name_en")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise PlaceDataError(f"{path}: cannot read ({exc})") from exc
    names: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        name_ja, name_en = (row.get("name_ja") or "").strip(), (row.get("name_en") or "").strip()
        if not name_ja or not name_en:
            raise PlaceDataError(f"{path}, line {line}: both name_ja and name_en are needed")
        if len(name_en) > SHELTER_NAME_MAX:
            raise PlaceDataError(f"{path}, line {line}: name_en is longer than {SHELTER_NAME_MAX}")
        if names.get(name_ja, name_en) != name_en:
            raise PlaceDataError(f"{path}, line {line}: {name_ja} has two English names")
        names[name_ja] = name_en
    return names


def shelter_english_names(
    *, school_records: Sequence[SchoolRecord], listed: dict[str, str]
) -> dict[str, str]:
    """English names for sites: a school's, for the site of the same Japanese name (most
    shelters are schools), then the names file's, which win."""
    names = {record.name_ja: record.name_en for record in school_records if record.name_en}
    return names | listed


def upsert_shelters(
    *,
    records: Sequence[ShelterRecord],
    index: AddressIndex,
    coarse_placements: list[str],
    english_names: dict[str, str] | None = None,
) -> UpsertCounts:
    area_ids = _area_ids()
    rows = []
    for record in records:
        area_code, precision = index.locate(record.address)
        if precision != Precision.NEIGHBOURHOOD:
            coarse_placements.append(
                f"{record.kind.label} {record.name_ja} ({record.address}) → {area_code}"
            )
        rows.append(
            {
                "kind": record.kind.value,
                "source_id": record.source_id,
                "name_ja": record.name_ja,
                "name_en": (english_names or {}).get(record.name_ja, ""),
                "area_id": area_ids[area_code],
                "address": record.address,
                "latitude": record.latitude,
                "longitude": record.longitude,
                **{name: name in record.hazards for name in GSI_HAZARD_FIELDS.values()},
            }
        )
    return upsert_rows(model=Shelter, key_fields=("kind", "source_id"), rows=rows)


# ------------------------------------------------------------------------------------------------
# Schools
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SchoolRecord:
    code: str
    name_ja: str
    name_en: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None


def school_kind_from_name(name: str) -> School.Kind:
    """Infer the kind of school from its Japanese name.

    Order matters: a combined 中学校・高等学校 counts as a junior high school, the first of its
    stages, because the model has no combined kind.
    """
    if "義務教育学校" in name:
        return School.Kind.COMPULSORY
    if "小学校" in name:
        return School.Kind.ELEMENTARY
    if "中学校" in name:
        return School.Kind.JUNIOR_HIGH
    if "高等学校" in name or "高校" in name:
        return School.Kind.HIGH
    return School.Kind.OTHER


def read_schools(*, path: Path) -> list[SchoolRecord]:
    """Read ``schools.csv``; rows with a ``skip_reason`` (closed schools, grounds) are left out."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise PlaceDataError(f"{path}: cannot read ({exc})") from exc
    records = []
    try:
        for row in rows:
            if (row.get("skip_reason") or "").strip():
                continue
            if not (row.get("code") or "").strip():
                raise PlaceDataError(f"{path}: school {row['name']} has no code")
            records.append(
                SchoolRecord(
                    code=row["code"].strip(),
                    name_ja=row["name"].strip(),
                    name_en=row["name_en"].strip(),
                    address=row["address"].strip(),
                    latitude=_coordinate(row["lat"], LATITUDE_RANGE),
                    longitude=_coordinate(row["lon"], LONGITUDE_RANGE),
                )
            )
    except (KeyError, AttributeError) as exc:
        raise PlaceDataError(f"{path}: missing column {exc}") from exc
    codes = [record.code for record in records]
    if len(set(codes)) != len(codes):
        raise PlaceDataError(f"{path}: duplicate school codes")
    return records


def upsert_schools(
    *, records: Sequence[SchoolRecord], index: AddressIndex, coarse_placements: list[str]
) -> UpsertCounts:
    area_ids = _area_ids()
    rows = []
    for record in records:
        area_code, precision = index.locate(record.address)
        if precision != Precision.NEIGHBOURHOOD:
            coarse_placements.append(f"school {record.name_ja} ({record.address}) → {area_code}")
        rows.append(
            {
                "code": record.code,
                "kind": school_kind_from_name(record.name_ja).value,
                "name_ja": record.name_ja,
                "name_en": record.name_en,
                "area_id": area_ids[area_code],
                "address": record.address,
                "latitude": record.latitude,
                "longitude": record.longitude,
            }
        )
    return upsert_rows(model=School, key_fields=("code",), rows=rows)


# ------------------------------------------------------------------------------------------------
# All at once
# ------------------------------------------------------------------------------------------------
def import_places(
    *,
    areas_path: Path,
    shelters_dir: Path | None = None,
    schools_path: Path | None = None,
    shelter_names_path: Path | None = None,
) -> PlacesReport:
    """Import areas, then the shelters and schools placed in them, all or nothing.

    Every file is read and checked before anything is written; call inside a transaction (the
    command does) so that a failure half-way leaves the database as it was.
    """
    area_records = read_area_records(path=areas_path)
    shelter_records = read_gsi_shelters(directory=shelters_dir) if shelters_dir else []
    school_records = read_schools(path=schools_path) if schools_path else []
    english_names = shelter_english_names(
        school_records=school_records,
        listed=read_shelter_names(path=shelter_names_path) if shelter_names_path else {},
    )
    index = AddressIndex.from_records(area_records)
    coarse_placements: list[str] = []
    with transaction.atomic():
        areas = upsert_areas(records=area_records)
        shelters = upsert_shelters(
            records=shelter_records,
            index=index,
            coarse_placements=coarse_placements,
            english_names=english_names,
        )
        schools = upsert_schools(
            records=school_records, index=index, coarse_placements=coarse_placements
        )
        # The home page's counts of areas, shelters and schools are counted again at once.
        transaction.on_commit(forget_city_overview)
    return PlacesReport(
        areas=areas, shelters=shelters, schools=schools, coarse_placements=coarse_placements
    )


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------
def upsert_rows(
    *, model: type[models.Model], key_fields: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> UpsertCounts:
    """Insert new rows and update changed ones in bulk; rows already as wanted are not written.

    ``rows`` map field attribute names (``area_id`` for a foreign key) to values and must all
    have the same keys, including ``key_fields``.
    """
    if not rows:
        return UpsertCounts()
    fields = list(rows[0])
    lookup = {f"{name}__in": {row[name] for row in rows} for name in key_fields}
    # The per-field IN filters select a superset; the exact key match happens in Python.
    existing = {
        tuple(getattr(instance, name) for name in key_fields): instance
        for instance in model._default_manager.filter(**lookup)
    }
    to_create: list[models.Model] = []
    to_update: list[models.Model] = []
    for row in rows:
        instance = existing.get(tuple(row[name] for name in key_fields))
        if instance is None:
            to_create.append(model(**row))
            continue
        differing = [name for name in fields if getattr(instance, name) != row[name]]
        if differing:
            for name in differing:
                setattr(instance, name, row[name])
            to_update.append(instance)
    model._default_manager.bulk_create(to_create, batch_size=500)
    update_fields = [name for name in fields if name not in key_fields]
    if to_update:
        model._default_manager.bulk_update(to_update, update_fields, batch_size=500)
    return UpsertCounts(
        created=len(to_create),
        updated=len(to_update),
        unchanged=len(rows) - len(to_create) - len(to_update),
    )


def _area_ids() -> dict[str, int]:
    return dict(Area.objects.values_list("code", "id"))


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise PlaceDataError(f"{path}: cannot read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise PlaceDataError(f"{path}: not valid JSON ({exc})") from exc


def _text(
    entry: Mapping[str, Any], key: str, *, required: bool = True, allow_number: bool = False
) -> str:
    """A string field, stripped; a required one may not be empty (an empty area name would
    match the start of every address)."""
    value = entry.get(key, "")
    if allow_number and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if value is None and not required:
        value = ""
    if not isinstance(value, str):
        raise PlaceDataError(f"{key} must be text, not {value!r}")
    value = value.strip()
    if required and not value:
        raise PlaceDataError(f"{key} is empty in {dict(entry)!r}"[:300])
    return value


def _coordinate(value: object, bounds: tuple[Decimal, Decimal]) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    return _required_coordinate(value, bounds)


def _required_coordinate(value: object, bounds: tuple[Decimal, Decimal]) -> Decimal:
    try:
        # Through str() so that a float such as 139.917932 keeps exactly the digits it was
        # written with.
        number = Decimal(str(value).strip())
        in_range = number.is_finite() and bounds[0] <= number <= bounds[1]
        if in_range:
            return number.quantize(COORDINATE_QUANTUM)
    except (InvalidOperation, ValueError) as exc:
        raise PlaceDataError(f"not a coordinate: {value!r}") from exc
    # Places a municipality publishes lie in Japan; anything else is a swapped pair or a typo,
    # and a shelter put far away would mislead the "nearest shelters" list.
    raise PlaceDataError(f"coordinate {value!r} is outside Japan ({bounds[0]} to {bounds[1]})")
