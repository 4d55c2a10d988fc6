"""Writes of resident attributes, and closing an account.

Each attribute write first asks consent.policy whether the attribute's category may be stored;
erasure runs when the last consent covering a category ends. Reads of attributes do not belong
here: they go through consent.policy.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.forms import ResetPasswordForm
from allauth.account.models import EmailAddress
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.catalogue import Category
from consent.policy import may_store
from consent.services import Actor, consents_withdraw_all
from portal.models import (
    Area,
    InterestTag,
    PlaceKind,
    PreferredLanguage,
    ResidentChild,
    ResidentInteraction,
    ResidentPlace,
    ResidentProfile,
    School,
    StaffAuditEntry,
    User,
)
from portal.residents.signals import profile_changed

OLDEST_BIRTH_YEAR = 1900
MAX_PLACES = 20
MAX_CHILDREN = 12


class ProfileError(ValueError):
    """An attribute that cannot be stored; nothing was changed."""


def _locked_may_store(resident_id: int, category: str) -> bool:
    # Lock the resident first: consent changes take the same lock, so a withdrawal cannot slip
    # between this check and the write (PostgreSQL; SQLite serialises writes anyway).
    list(User.objects.select_for_update().filter(pk=resident_id).values_list("pk"))
    return may_store(resident_id=resident_id, category=category)


def _require_consent(resident_id: int, category: str) -> None:
    if not _locked_may_store(resident_id, category):
        raise ProfileError(
            _("You have not agreed to share this information, so it cannot be stored.")
        )


def _changed(resident_id: int, category: str) -> None:
    profile_changed.send(
        sender=ResidentProfile, resident_id=resident_id, categories=frozenset({category})
    )


def _profile_for_update(resident_id: int) -> ResidentProfile:
    profile, _created = ResidentProfile.objects.select_for_update().get_or_create(
        resident_id=resident_id
    )
    return profile


@transaction.atomic
def profile_set_birth_year(*, resident_id: int, birth_year: int | None) -> None:
    _require_consent(resident_id, Category.AGE)
    this_year = timezone.localdate().year
    if birth_year is not None and not OLDEST_BIRTH_YEAR <= birth_year <= this_year:
        raise ProfileError(
            _("Enter a birth year between %(low)s and %(high)s.")
            % {"low": OLDEST_BIRTH_YEAR, "high": this_year}
        )
    profile = _profile_for_update(resident_id)
    profile.birth_year = birth_year
    profile.save(update_fields=["birth_year", "updated_at"])
    _changed(resident_id, Category.AGE)


@transaction.atomic
def profile_set_language(
    *, resident_id: int, preferred_language: str, large_text: bool, easy_japanese: bool
) -> None:
    _require_consent(resident_id, Category.LANGUAGE)
    if preferred_language and preferred_language not in PreferredLanguage.values:
        raise ProfileError(_("Choose Japanese or English."))
    profile = _profile_for_update(resident_id)
    profile.preferred_language = preferred_language
    profile.needs_large_text = large_text
    profile.needs_easy_japanese = easy_japanese
    profile.save(
        update_fields=[
            "preferred_language",
            "needs_large_text",
            "needs_easy_japanese",
            "updated_at",
        ]
    )


@transaction.atomic
def profile_set_home_location(
    *, resident_id: int, latitude: Decimal | None, longitude: Decimal | None
) -> None:
    _require_consent(resident_id, Category.LOCATION)
    if (latitude is None) != (longitude is None):
        raise ProfileError(_("Enter both latitude and longitude, or neither."))
    if latitude is not None and longitude is not None and not _in_japan(latitude, longitude):
        raise ProfileError(_("This location is not in Japan. Check latitude and longitude."))
    profile = _profile_for_update(resident_id)
    profile.home_latitude = latitude
    profile.home_longitude = longitude
    profile.save(update_fields=["home_latitude", "home_longitude", "updated_at"])
    _changed(resident_id, Category.LOCATION)


def _in_japan(latitude: Decimal, longitude: Decimal) -> bool:
    # Japan lies within these bounds; anything else is a typo or a swapped pair.
    return Decimal("20") <= latitude <= Decimal("46") and Decimal("122") <= longitude <= Decimal(
        "154"
    )


@transaction.atomic
def profile_set_interests(*, resident_id: int, interest_codes: Collection[str]) -> None:
    _require_consent(resident_id, Category.INTERESTS)
    tags = list(InterestTag.objects.filter(code__in=list(interest_codes)))
    unknown = set(interest_codes) - {tag.code for tag in tags}
    if unknown:
        raise ProfileError(_("Unknown interest: %(codes)s") % {"codes": ", ".join(sorted(unknown))})
    _profile_for_update(resident_id).interests.set(tags)
    _changed(resident_id, Category.INTERESTS)


@transaction.atomic
def place_add(*, resident_id: int, kind: str, area_code: str) -> ResidentPlace:
    _require_consent(resident_id, Category.PLACES)
    if kind not in PlaceKind.values:
        raise ProfileError(_("Choose what kind of place this is."))
    area = Area.objects.filter(code=area_code).first()
    if area is None:
        raise ProfileError(_("Unknown area. Choose an area from the list."))
    places = ResidentPlace.objects.select_for_update().filter(resident_id=resident_id)
    if places.filter(kind=kind, area=area).exists():
        raise ProfileError(_("This place is already in your list."))
    if places.count() >= MAX_PLACES:
        raise ProfileError(_("You can register at most %(n)s places.") % {"n": MAX_PLACES})
    place = ResidentPlace.objects.create(resident_id=resident_id, kind=kind, area=area)
    _changed(resident_id, Category.PLACES)
    return place


@transaction.atomic
def place_remove(*, resident_id: int, place_id: int) -> bool:
    """Remove one of the resident's own places; another resident's id removes nothing."""
    deleted, _detail = ResidentPlace.objects.filter(pk=place_id, resident_id=resident_id).delete()
    if deleted:
        _changed(resident_id, Category.PLACES)
    return deleted > 0


@transaction.atomic
def child_add(*, resident_id: int, school_code: str, grade: int) -> ResidentChild:
    _require_consent(resident_id, Category.HOUSEHOLD)
    school = School.objects.filter(code=school_code).first()
    if school is None:
        raise ProfileError(_("Unknown school. Choose a school from the list."))
    if grade not in school.grades:
        raise ProfileError(
            _("%(school)s has grades %(low)s to %(high)s.")
            % {"school": school.name, "low": school.grades.start, "high": school.grades.stop - 1}
        )
    children = ResidentChild.objects.select_for_update().filter(resident_id=resident_id)
    if children.count() >= MAX_CHILDREN:
        raise ProfileError(_("You can register at most %(n)s children.") % {"n": MAX_CHILDREN})
    child = ResidentChild.objects.create(resident_id=resident_id, school=school, grade=grade)
    _changed(resident_id, Category.HOUSEHOLD)
    return child


@transaction.atomic
def child_remove(*, resident_id: int, child_id: int) -> bool:
    deleted, _detail = ResidentChild.objects.filter(pk=child_id, resident_id=resident_id).delete()
    if deleted:
        _changed(resident_id, Category.HOUSEHOLD)
    return deleted > 0


class InteractionKind:
    """What a resident may do with a notice on the home page (ResidentInteraction's columns)."""

    OPENED = "opened"
    SAVED = "saved"
    UNSAVED = "unsaved"
    DISMISSED = "dismissed"
    UNDISMISSED = "undismissed"

    ALL = frozenset({OPENED, SAVED, UNSAVED, DISMISSED, UNDISMISSED})


# What each kind sets; "un-" kinds clear what their kind set.
_INTERACTION_UPDATES = {
    InteractionKind.OPENED: ("opened_at", True),
    InteractionKind.SAVED: ("saved_at", True),
    InteractionKind.UNSAVED: ("saved_at", False),
    InteractionKind.DISMISSED: ("dismissed_at", True),
    InteractionKind.UNDISMISSED: ("dismissed_at", False),
}


@dataclass(frozen=True)
class Recorded:
    """What an interaction write did: whether anything was stored (the resident shares their
    history), and whether this was the first time for this resident and notice — the only
    time the anonymous counts may count it."""

    stored: bool
    first: bool


def interaction_record(*, resident_id: int, notice_id: int, kind: str) -> bool:
    """Store what the resident did with a notice, if they share their interaction history.

    Returns whether anything was stored: without that consent nothing identifying is kept (the
    anonymous counts are the recommender's business). Opening a notice keeps its first time.
    """
    return interaction_record_once(resident_id=resident_id, notice_id=notice_id, kind=kind).stored


@transaction.atomic
def interaction_record_once(*, resident_id: int, notice_id: int, kind: str) -> Recorded:
    """``interaction_record``, telling whether the resident opened (or saved) this notice for
    the first time."""
    if kind not in InteractionKind.ALL:
        raise ProfileError(_("Unknown kind of interaction."))
    if not _locked_may_store(resident_id, Category.INTERACTIONS):
        return Recorded(stored=False, first=False)
    field, setting = _INTERACTION_UPDATES[kind]
    interaction, _created = ResidentInteraction.objects.select_for_update().get_or_create(
        resident_id=resident_id, notice_id=notice_id
    )
    if kind == InteractionKind.OPENED and interaction.opened_at is not None:
        return Recorded(stored=True, first=False)
    now = timezone.now()
    first = False
    fields = [field, "updated_at"]
    if kind == InteractionKind.OPENED:
        first = True
    elif kind == InteractionKind.SAVED and interaction.first_saved_at is None:
        first = True
        interaction.first_saved_at = now
        fields.append("first_saved_at")
    setattr(interaction, field, now if setting else None)
    interaction.save(update_fields=fields)
    if kind != InteractionKind.OPENED:
        # Saving or setting aside says what the resident wants: their feed follows at once.
        # (Opening alone waits for the periodic rescore.)
        _changed(resident_id, Category.INTERACTIONS)
    return Recorded(stored=True, first=first)


def interactions_shown(*, resident_id: int, notice_ids: Collection[int]) -> bool:
    """Count one showing of each of these notices to the resident, if they share their
    interaction history: one statement for the whole list, however often the page is seen."""
    return interactions_shown_first(resident_id=resident_id, notice_ids=notice_ids) is not None


@transaction.atomic
def interactions_shown_first(*, resident_id: int, notice_ids: Collection[int]) -> list[int] | None:
    """``interactions_shown``, returning the notices shown to the resident for the first time
    (None: nothing stored)."""
    ids = sorted(set(notice_ids))
    if not ids:
        return None
    if not _locked_may_store(resident_id, Category.INTERACTIONS):
        return None
    # Raw SQL: the backend's own form of a time (SQLite stores text Django must read back).
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = ResidentInteraction._meta.db_table
    rows = ", ".join(["(%s, %s, %s, 1, %s)"] * len(ids))
    params: list[Any] = []
    for notice_id in ids:
        params += [resident_id, notice_id, now, now]
    # An upsert that adds to the count in place; PostgreSQL and SQLite share the syntax.
    sql = (
        f"INSERT INTO {table} (resident_id, notice_id, first_shown_at, shown_count, updated_at) "
        f"VALUES {rows} ON CONFLICT (resident_id, notice_id) DO UPDATE SET "
        f"shown_count = {table}.shown_count + 1, "
        f"first_shown_at = COALESCE({table}.first_shown_at, excluded.first_shown_at), "
        "updated_at = excluded.updated_at RETURNING notice_id, shown_count"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(notice_id for notice_id, count in cursor.fetchall() if count == 1)


def erase_categories(*, resident_id: int, categories: Iterable[str]) -> None:
    """Delete every stored attribute of these categories (the last consent for them ended)."""
    codes = set(categories)
    if Category.INTERACTIONS in codes:
        ResidentInteraction.objects.filter(resident_id=resident_id).delete()
    if Category.PLACES in codes:
        ResidentPlace.objects.filter(resident_id=resident_id).delete()
    if Category.HOUSEHOLD in codes:
        ResidentChild.objects.filter(resident_id=resident_id).delete()
    profile = ResidentProfile.objects.filter(resident_id=resident_id).first()
    if profile is None:
        return
    cleared: dict[str, Any] = {}
    if Category.AGE in codes:
        cleared["birth_year"] = None
    if Category.LANGUAGE in codes:
        cleared |= {
            "preferred_language": "",
            "needs_large_text": False,
            "needs_easy_japanese": False,
        }
    if Category.LOCATION in codes:
        cleared |= {"home_latitude": None, "home_longitude": None}
    if Category.INTERESTS in codes:
        profile.interests.clear()
    if cleared:
        for name, value in cleared.items():
            setattr(profile, name, value)
        profile.save(update_fields=[*cleared, "updated_at"])


def erase_on_uncovered(
    sender: object, *, resident_id: int, categories: frozenset[str], **kwargs: Any
) -> None:
    """Receiver of consent.signals.categories_uncovered."""
    erase_categories(resident_id=resident_id, categories=categories)


@transaction.atomic
def account_delete(*, user: User, actor: Actor | None = None) -> None:
    """Erase the account and everything stored about the resident, all or nothing.

    Every active consent is withdrawn first, so the ledger records the end of each one (and the
    withdrawal erases the attributes); deleting the user then removes the rest by CASCADE:
    consent states, the data-use log, email addresses, authenticators. The ledger keeps only
    events under the pseudonym, which no longer links to anyone.
    """
    consents_withdraw_all(resident=user, actor=actor or Actor.resident(user))
    _admin_log_forget_email(user)
    user.delete()


def admin_log_label(user: User) -> str:
    """How the admin log names an account: by pseudonym, like the consent ledger, so that the
    log keeps nothing that identifies a resident once the account is gone."""
    return f"user {user.pseudonym}"


def _admin_log_forget_email(user: User) -> None:
    # Entries written before the admin named accounts by pseudonym carry str(user), the email;
    # left as they are, they would tie the ledger's pseudonymous withdrawals of the same minute
    # to a person.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=admin_log_label(user))


def account_created_by_staff_record(*, user: User, staff: User, ip_address: str | None) -> None:
    """A member of staff made an account in the admin and chose its first password."""
    StaffAuditEntry.objects.record(
        actor=staff,
        action="account.create",
        subject_pseudonym=user.pseudonym,
        ip_address=ip_address,
    )


@transaction.atomic
def account_delete_by_staff(*, user: User, staff: User, ip_address: str | None) -> None:
    """Close an account from the admin: the resident's own erasure, and a staff audit row that
    names the resident only by pseudonym."""
    StaffAuditEntry.objects.record(
        actor=staff,
        action="account.delete",
        subject_pseudonym=user.pseudonym,
        ip_address=ip_address,
    )
    account_delete(user=user, actor=Actor.staff(staff))


@transaction.atomic
def account_password_reset_send(*, user: User, staff: User, request: HttpRequest) -> bool:
    """Send the account allauth's password reset link, on a staff member's request.

    Staff never choose a password for someone else (they could then log in as the resident, and
    the data-use log would count it as the resident's own access): the link goes to the
    account's own address, with a notice that city staff sent it. False if allauth sends no
    link (an inactive account, no address).
    """
    adapter = get_adapter(request)
    email = EmailAddress.objects.get_primary_email(user) or user.email
    form = ResetPasswordForm(data={"email": email})
    if not form.is_valid() or not form.users:
        return False
    StaffAuditEntry.objects.record(
        actor=staff,
        action="account.password_reset_sent",
        subject_pseudonym=user.pseudonym,
        ip_address=adapter.get_client_ip(request),
    )
    form.save(request)
    adapter.send_mail("account/email/password_reset_by_staff", email, {"user": user})
    return True
