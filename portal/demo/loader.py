"""Load the demo data set: areas, GSI shelters, schools and the demo accounts.

Everything is an idempotent upsert on a natural key (area and school ``code``, shelter
``(kind, source_id)``, account email) inside one transaction: running it twice changes nothing,
and a bad data file leaves the database as it was. Rows that already hold the wanted values are
not written again, so a re-run reports them as unchanged.

Rows that exist in the database but not in the data files are left alone: notices, residents'
places and other records may point at them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from allauth.mfa.utils import decrypt
from django.contrib.auth.models import Group
from django.db import models, transaction

from portal.models import Area, School, Shelter, User
from portal.roles import Role, sync_role_groups

DATA_DIR = Path(__file__).resolve().parent / "data"

# One published secret for every demo staff account, so that anyone trying the demo can produce
# codes (`oathtool --totp -b JBSWY3DPEHPK3PXP`). Never use it for a real account.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"

COORDINATE_QUANTUM = Decimal("0.000001")  # the models keep six decimal places (about 0.1 m)

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


class DemoDataError(ValueError):
    """A demo data file is missing or malformed; nothing has been written."""


# ------------------------------------------------------------------------------------------------
# Demo accounts
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    label: str
    role: Role | None = None
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def needs_mfa(self) -> bool:
        # Staff pages demand MFA (portal.middleware), so staff get a TOTP authenticator.
        return self.is_staff


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("resident@example.jp", "resident-demo-2026", "resident"),
    DemoAccount(
        "publisher@city.example.jp",
        "publisher-demo-2026",
        "staff: publisher",
        role=Role.PUBLISHER,
        is_staff=True,
    ),
    DemoAccount(
        "approver@city.example.jp",
        "approver-demo-2026",
        "staff: approver",
        role=Role.APPROVER,
        is_staff=True,
    ),
    DemoAccount(
        "officer@city.example.jp",
        "officer-demo-2026",
        "staff: consent officer",
        role=Role.CONSENT_OFFICER,
        is_staff=True,
    ),
    DemoAccount(
        "admin@city.example.jp",
        "admin-demo-2026",
        "staff: administrator (superuser)",
        is_staff=True,
        is_superuser=True,
    ),
)


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
class DemoReport:
    areas: UpsertCounts
    shelters: UpsertCounts
    schools: UpsertCounts
    accounts: UpsertCounts
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
        raise DemoDataError(f"{path}: malformed area entry ({exc!r})") from exc
    records = municipalities + districts + neighbourhoods
    codes = [record.code for record in records]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise DemoDataError(f"{path}: duplicate area codes {duplicates}")
    return records


def _area_record(entry: Mapping[str, Any], kind: Area.Kind, parent_code: str | None) -> AreaRecord:
    return AreaRecord(
        code=entry["code"],
        kind=kind,
        name_ja=entry["name_ja"],
        name_en=entry.get("name_en", ""),
        name_kana=entry.get("name_kana", ""),
        latitude=_coordinate(entry.get("latitude")),
        longitude=_coordinate(entry.get("longitude")),
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
                    raise DemoDataError(f"area {record.code}: unknown parent {record.parent_code}")
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
                raise DemoDataError(f"two {record.kind}s named {record.name_ja} in one place")
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
        raise DemoDataError(f"address {address!r} is in none of the demo municipalities")


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
        raise DemoDataError(f"{directory}: no GSI shelter files (*.geojson)")
    records: list[ShelterRecord] = []
    for path in paths:
        kind = next(
            (kind for prefix, kind in GSI_FILE_KINDS.items() if path.name.startswith(prefix)),
            None,
        )
        if kind is None:
            raise DemoDataError(f"{path}: name must start with one of {sorted(GSI_FILE_KINDS)}")
        records.extend(_gsi_feature_records(path, kind))
    keys = [(record.kind, record.source_id) for record in records]
    if len(set(keys)) != len(keys):
        raise DemoDataError(f"{directory}: a (kind, 共通ID) pair occurs twice")
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
                    source_id=str(properties["共通ID"]).strip(),
                    # Some names end in an ideographic space (U+3000); str.strip() removes it.
                    name_ja=str(properties["施設・場所名"]).strip(),
                    address=str(properties["住所"]).strip(),
                    latitude=_required_coordinate(latitude),
                    longitude=_required_coordinate(longitude),
                    hazards=frozenset(
                        field_name
                        for column, field_name in GSI_HAZARD_FIELDS.items()
                        if str(properties.get(column) or "").strip() == "1"
                    ),
                )
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise DemoDataError(f"{path}: malformed feature ({exc!r})") from exc
    return records


def upsert_shelters(
    *, records: Sequence[ShelterRecord], index: AddressIndex, coarse_placements: list[str]
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
        raise DemoDataError(f"{path}: cannot read ({exc})") from exc
    records = []
    try:
        for row in rows:
            if (row.get("skip_reason") or "").strip():
                continue
            if not (row.get("code") or "").strip():
                raise DemoDataError(f"{path}: school {row['name']} has no code")
            records.append(
                SchoolRecord(
                    code=row["code"].strip(),
                    name_ja=row["name"].strip(),
                    name_en=row["name_en"].strip(),
                    address=row["address"].strip(),
                    latitude=_coordinate(row["lat"]),
                    longitude=_coordinate(row["lon"]),
                )
            )
    except (KeyError, AttributeError) as exc:
        raise DemoDataError(f"{path}: missing column {exc}") from exc
    codes = [record.code for record in records]
    if len(set(codes)) != len(codes):
        raise DemoDataError(f"{path}: duplicate school codes")
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
# Accounts
# ------------------------------------------------------------------------------------------------
def ensure_demo_account(*, account: DemoAccount, totp_secret: str = DEMO_TOTP_SECRET) -> str:
    """Bring one demo account to its documented state; return "created", "updated" or
    "unchanged".

    The documented password, flags, role, verified primary address and authenticators are
    restored, so a demo that someone played with works again after a re-run.
    """
    user = User.objects.filter(email__iexact=account.email).first()
    created = user is None
    changed = False
    if user is None:
        user = User(email=account.email)
    for attribute, wanted in (
        ("is_active", True),
        ("is_staff", account.is_staff),
        ("is_superuser", account.is_superuser),
    ):
        if getattr(user, attribute) != wanted:
            setattr(user, attribute, wanted)
            changed = True
    # check_password costs as much as set_password, but leaves an intact account untouched.
    if created or not user.check_password(account.password):
        user.set_password(account.password)
        changed = True
    if changed:
        user.save()

    changed |= _ensure_role(user, account.role)
    changed |= _ensure_verified_primary_email(user, account.email)
    if account.needs_mfa:
        changed |= _ensure_totp(user, totp_secret)
        changed |= _ensure_recovery_codes(user)
    else:
        # A resident signs in with the password alone; drop anything a tester added.
        deleted, _ = Authenticator.objects.filter(user=user).delete()
        changed |= deleted > 0

    if created:
        return "created"
    return "updated" if changed else "unchanged"


def ensure_demo_accounts(
    *, accounts: Iterable[DemoAccount] = DEMO_ACCOUNTS, totp_secret: str = DEMO_TOTP_SECRET
) -> UpsertCounts:
    # The role groups normally come from the post_migrate handler; syncing here too means the
    # demo works even on a database migrated before a role was added.
    sync_role_groups()
    counts = UpsertCounts()
    for account in accounts:
        outcome = ensure_demo_account(account=account, totp_secret=totp_secret)
        setattr(counts, outcome, getattr(counts, outcome) + 1)
    return counts


def _ensure_role(user: User, role: Role | None) -> bool:
    wanted = {role.value} if role else set()
    current = set(user.groups.values_list("name", flat=True))
    if current == wanted:
        return False
    user.groups.set(Group.objects.filter(name__in=wanted))
    return True


def _ensure_verified_primary_email(user: User, email: str) -> bool:
    taken = EmailAddress.objects.filter(email__iexact=email).exclude(user=user).first()
    if taken is not None:
        raise DemoDataError(
            f"{email} is already an address of another account (user id {taken.user_id}); "
            "remove it before loading the demo"
        )
    changed = False
    # Only one primary address per user is allowed, so demote any other first.
    demoted = (
        EmailAddress.objects.filter(user=user, primary=True)
        .exclude(email__iexact=email)
        .update(primary=False)
    )
    changed |= demoted > 0
    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None:
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return True
    if not (address.verified and address.primary):
        address.verified = True
        address.primary = True
        address.save(update_fields=["verified", "primary"])
        changed = True
    return changed


def _ensure_totp(user: User, secret: str) -> bool:
    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if existing is not None:
        if decrypt(existing.data.get("secret", "")) == secret:
            return False
        # A user may hold only one TOTP authenticator, so replace it rather than add one.
        existing.delete()
    TOTP.activate(user, secret)
    return True


def _ensure_recovery_codes(user: User) -> bool:
    exists = Authenticator.objects.filter(
        user=user, type=Authenticator.Type.RECOVERY_CODES
    ).exists()
    # activate() returns the existing set if there is one, so codes survive a re-run.
    RecoveryCodes.activate(user)
    return not exists


# The demo resident shares a little, through the real consent services, so that "my data",
# receipts and the data-use log have something to show. Only done once: a resident who has any
# consent history (the demo's or their own) is left alone.
DEMO_RESIDENT_EMAIL = "resident@example.jp"
DEMO_RESIDENT_CONSENTS = {
    "personalised_home": ["age", "places", "interests", "household"],
    "disaster_warnings": ["places", "language"],
    "school_letters": ["household"],
}


def ensure_demo_resident_consents() -> bool:
    from consent.models import ConsentEvent
    from consent.selectors import current_terms
    from consent.services import Actor, consent_grant
    from portal import profile_services

    resident = User.objects.get(email=DEMO_RESIDENT_EMAIL)
    if ConsentEvent.objects.filter(subject_pseudonym=resident.pseudonym).exists():
        return False
    for purpose, categories in DEMO_RESIDENT_CONSENTS.items():
        terms = current_terms(purpose_code=purpose)
        assert terms is not None
        consent_grant(
            resident=resident,
            terms_id=terms.pk,
            category_codes=categories,
            actor=Actor.resident(resident),
        )
    profile_services.profile_set_birth_year(resident_id=resident.pk, birth_year=1988)
    profile_services.place_add(
        resident_id=resident.pk, kind="home", area_code="072028-kakujo-higashisakaemachi"
    )
    profile_services.place_add(resident_id=resident.pk, kind="work", area_code="072087-kitakata")
    profile_services.profile_set_interests(
        resident_id=resident.pk, interest_codes=["childcare", "snow", "disaster_preparedness"]
    )
    profile_services.child_add(resident_id=resident.pk, school_code="072028-es-kakujo", grade=3)
    profile_services.profile_set_language(
        resident_id=resident.pk, preferred_language="ja", large_text=False, easy_japanese=False
    )
    return True


# ------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------
def load_demo(*, data_dir: Path = DATA_DIR, totp_secret: str = DEMO_TOTP_SECRET) -> DemoReport:
    """Load every demo data set in one transaction and report what changed."""
    # Read and check all files before writing anything.
    area_records = read_area_records(path=data_dir / "areas.json")
    shelter_records = read_gsi_shelters(directory=data_dir / "gsi_shelters")
    school_records = read_schools(path=data_dir / "schools.csv")
    index = AddressIndex.from_records(area_records)

    coarse_placements: list[str] = []
    with transaction.atomic():
        areas = upsert_areas(records=area_records)
        shelters = upsert_shelters(
            records=shelter_records, index=index, coarse_placements=coarse_placements
        )
        schools = upsert_schools(
            records=school_records, index=index, coarse_placements=coarse_placements
        )
        accounts = ensure_demo_accounts(totp_secret=totp_secret)
        ensure_demo_resident_consents()
    return DemoReport(
        areas=areas,
        shelters=shelters,
        schools=schools,
        accounts=accounts,
        coarse_placements=coarse_placements,
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
        raise DemoDataError(f"{path}: cannot read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise DemoDataError(f"{path}: not valid JSON ({exc})") from exc


def _coordinate(value: object) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    return _required_coordinate(value)


def _required_coordinate(value: object) -> Decimal:
    try:
        # Through str() so that a float such as 139.917932 keeps exactly the digits it was
        # written with.
        return Decimal(str(value).strip()).quantize(COORDINATE_QUANTUM)
    except (InvalidOperation, ValueError) as exc:
        raise DemoDataError(f"not a coordinate: {value!r}") from exc
