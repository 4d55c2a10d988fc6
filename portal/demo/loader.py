"""The demo: Aizuwakamatsu's areas, shelters and schools (loaded with the same importers a real
city uses, portal.places.importers), demo accounts with published passwords, and a demo resident
who shares a little through the real consent services.

Accounts are brought to their documented state on every run (idempotent); everything happens
in one transaction, so a bad data file leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from allauth.mfa.utils import decrypt
from django.contrib.auth.models import Group
from django.db import transaction

from portal.models import User
from portal.places.importers import PlaceDataError, UpsertCounts, import_places
from portal.staff.roles import Role, sync_role_groups

DATA_DIR = Path(__file__).resolve().parent / "data"

# One published secret for every demo staff account, so that anyone trying the demo can produce
# codes (`oathtool --totp -b JBSWY3DPEHPK3PXP`). Never use it for a real account.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"


class DemoDataError(ValueError):
    """The demo cannot be loaded (a data file is malformed, an address is taken); nothing has
    been written."""


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
        # Staff pages demand MFA (portal.infra.middleware), so staff get a TOTP authenticator.
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
        "clerk@city.example.jp",
        "clerk-demo-2026",
        "staff: counter clerk",
        role=Role.COUNTER_CLERK,
        is_staff=True,
    ),
    DemoAccount(
        "disaster@city.example.jp",
        "disaster-demo-2026",
        "staff: disaster officer (publishes warnings without review)",
        role=Role.DISASTER_OFFICER,
        is_staff=True,
    ),
    DemoAccount(
        "teacher@school.example.jp",
        "teacher-demo-2026",
        "staff: school staff of Kakujo Elementary (school letters)",
        role=Role.SCHOOL_STAFF,
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


@dataclass
class DemoReport:
    areas: UpsertCounts
    shelters: UpsertCounts
    schools: UpsertCounts
    accounts: UpsertCounts
    # Demo notices created by this run (0 when they were all there).
    notices: int = 0
    # Addresses that name no known neighbourhood, so their place was attached to a coarser area.
    coarse_placements: list[str] = field(default_factory=list)


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
    "disaster_warnings": ["places", "location", "language"],
    "school_letters": ["household"],
}


DEMO_COUNTER = "市役所本庁舎 市民課窓口 (demo)"


def ensure_demo_paper_forms() -> bool:
    """A first batch of the paper-form register, so the demo counter has references to use."""
    from consent.models import PaperFormBatch
    from consent.services import paper_form_batch_issue

    if PaperFormBatch.objects.exists():
        return False
    officer = User.objects.get(email="officer@city.example.jp")
    paper_form_batch_issue(officer=officer, size=20, issued_to=DEMO_COUNTER)
    return True


def ensure_demo_resident_consents() -> bool:
    from consent.models import ConsentEvent
    from consent.selectors import current_terms
    from consent.services import Actor, consent_grant
    from portal.residents import services as profile_services

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
    # A point in 東栄町 (no one's real address): "nearest to my home" on /shelters/ sorts by it.
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.4921"), longitude=Decimal("139.9302")
    )
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


def ensure_demo_notification_preferences() -> bool:
    """The demo resident asked for warnings by email (what `make run` with EMAIL_URL shows)."""
    from portal.notifications.models import NotificationPreference
    from portal.notifications.services import Preferences, preferences_update

    resident = User.objects.get(email=DEMO_RESIDENT_EMAIL)
    if NotificationPreference.objects.filter(resident=resident).exists():
        return False
    preferences_update(
        resident_id=resident.pk,
        preferences=Preferences(channels=["email"], warnings=True),
    )
    return True


def ensure_demo_notices() -> int:
    from portal.demo.notices import ensure_demo_notices as create_missing

    return create_missing()


def ensure_demo_feeds() -> int:
    from portal.demo.feeds import ensure_demo_feeds as ingest_samples

    return ingest_samples()


# ------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------
def load_demo(*, data_dir: Path = DATA_DIR, totp_secret: str = DEMO_TOTP_SECRET) -> DemoReport:
    """Load every demo data set in one transaction and report what changed."""
    try:
        with transaction.atomic():
            places = import_places(
                areas_path=data_dir / "areas.json",
                shelters_dir=data_dir / "gsi_shelters",
                schools_path=data_dir / "schools.csv",
            )
            accounts = ensure_demo_accounts(totp_secret=totp_secret)
            ensure_demo_resident_consents()
            ensure_demo_notification_preferences()
            ensure_demo_paper_forms()
            notices = ensure_demo_notices()
            notices += ensure_demo_feeds()
    except PlaceDataError as exc:
        raise DemoDataError(str(exc)) from exc
    # What the consent reports show at once rather than after the first night.
    from consent.reports.statistics import planning_statistics_compute
    from consent.services import ledger_verify

    ledger_verify()
    planning_statistics_compute()
    return DemoReport(
        areas=places.areas,
        shelters=places.shelters,
        schools=places.schools,
        accounts=accounts,
        notices=notices,
        coarse_placements=places.coarse_placements,
    )
