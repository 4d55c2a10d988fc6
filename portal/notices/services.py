"""Writes of notices: each a transition of the lifecycle (portal/notices/lifecycle.py) in one
transaction, with its ``NoticeEvent`` and, for what residents see, the change announced to the
worker once the transaction commits (``notices.announce_change``).

Who may do what is decided here, not in the views: a publisher edits only their departments'
notices, school staff only their schools' letters, nobody approves their own notice.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.infra.task_outbox import enqueue_on_commit
from portal.models import Area, InterestTag, School, User
from portal.notices import lifecycle
from portal.notices.attachments import check_attachment
from portal.notices.models import (
    AGE_BANDS,
    URGENCY_RANK,
    Acknowledgement,
    Attachment,
    Category,
    Department,
    FeedSeries,
    FeedVersion,
    Notice,
    NoticeEvent,
    SchoolAudience,
    Source,
    Status,
    Urgency,
)
from portal.notices.rendering import markdown_problems
from portal.notices.selectors import may_edit, notice_snapshot, relations_unchanged
from portal.notices.tasks import announce_change

logger = logging.getLogger(__name__)

Action = NoticeEvent.Action
# "0-9", "10-19" … "90-99", as consent.policy.age_band writes them.


@dataclass(frozen=True)
class Targeting:
    """Who a notice is for; nothing set means everyone."""

    area_codes: Sequence[str] = ()
    age_bands: Sequence[str] = ()
    interest_codes: Sequence[str] = ()
    # (school code, grade or None for every grade)
    school_audiences: Sequence[tuple[str, int | None]] = ()


@dataclass(frozen=True)
class NoticeDraft:
    """Everything an author writes; the same for a new notice and an edit."""

    category: str
    title_ja: str
    body_ja: str = ""
    urgency: str = Urgency.INFORMATION
    title_en: str = ""
    body_en: str = ""
    title_easy: str = ""
    body_easy: str = ""
    publish_at: datetime | None = None
    expires_at: datetime | None = None
    department_code: str = ""
    school_code: str = ""
    is_public: bool = True
    requires_acknowledgement: bool = False
    supersedes_id: int | None = None
    is_cancellation: bool = False
    targeting: Targeting = field(default_factory=Targeting)


@dataclass(frozen=True)
class _Resolved:
    areas: list[Area]
    interests: list[InterestTag]
    audiences: list[tuple[School, int | None]]
    department_id: int | None
    school: School | None
    supersedes: Notice | None


# ----------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------


def notice_create(*, author: User, draft: NoticeDraft) -> Notice:
    resolved = _checked(draft, author=author)
    with transaction.atomic():
        notice = Notice(created_by=author)
        _apply(notice, draft, resolved)
        if notice.department_id is None and notice.category not in {
            Category.SCHOOL,
            Category.DISASTER,
        }:
            raise ValidationError({"department": [_("Choose the department it comes from.")]})
        _authorise_edit(author, notice)
        notice.save()
        _set_targeting(notice, draft, resolved)
        _record(notice, Action.CREATED, actor=author, source="", target=Status.DRAFT)
    return notice


def notice_update(*, editor: User, notice_id: int, draft: NoticeDraft) -> Notice:
    resolved = _checked(draft, author=editor)
    with transaction.atomic():
        notice = _locked(notice_id)
        _authorise_edit(editor, notice)
        if notice.status not in lifecycle.EDITABLE:
            raise lifecycle.TransitionNotAllowed(Action.EDITED, notice.status)
        _apply(notice, draft, resolved)
        # The new department or school must be one of the editor's too.
        _authorise_edit(editor, notice)
        notice.save()
        _set_targeting(notice, draft, resolved)
        _record(notice, Action.EDITED, actor=editor, source=notice.status, target=notice.status)
    return notice


def notice_attach(*, editor: User, notice_id: int, upload: UploadedFile[bytes]) -> Attachment:
    checked = check_attachment(upload)
    with transaction.atomic():
        notice = _locked(notice_id)
        _authorise_edit(editor, notice)
        if notice.status not in lifecycle.EDITABLE:
            raise lifecycle.TransitionNotAllowed(Action.EDITED, notice.status)
        attachment = Attachment(
            notice=notice,
            name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
        )
        attachment.file.save(checked.name, upload, save=False)
        attachment.save()
        _record(notice, Action.EDITED, actor=editor, source=notice.status, target=notice.status)
    return attachment


def notice_detach(*, editor: User, attachment_id: int) -> None:
    with transaction.atomic():
        attachment = Attachment.objects.select_related("notice").get(pk=attachment_id)
        notice = _locked(attachment.notice_id)
        _authorise_edit(editor, notice)
        if notice.status not in lifecycle.EDITABLE:
            raise lifecycle.TransitionNotAllowed(Action.EDITED, notice.status)
        stored = attachment.file.name or ""
        attachment.delete()
        _record(notice, Action.EDITED, actor=editor, source=notice.status, target=notice.status)
        transaction.on_commit(lambda: attachment.file.storage.delete(stored))


# ----------------------------------------------------------------------------------------------
# Review
# ----------------------------------------------------------------------------------------------


def notice_submit(*, author: User, notice_id: int) -> Notice:
    with transaction.atomic():
        notice = _locked(notice_id)
        _authorise_edit(author, notice)
        _transition(notice, Action.SUBMITTED, actor=author)
    return notice


def notice_send_back(*, approver: User, notice_id: int, comment: str) -> Notice:
    if not comment.strip():
        raise ValidationError(_("Say what should change: the author reads your comment."))
    with transaction.atomic():
        notice = _locked(notice_id)
        _authorise_review(approver, notice)
        _transition(notice, Action.SENT_BACK, actor=approver, comment=comment.strip())
    return notice


def notice_approve(*, approver: User, notice_id: int, now: datetime | None = None) -> Notice:
    """Approve; a notice due now (no publish time, or one passed) is published at once."""
    now = now or timezone.now()
    with transaction.atomic():
        notice = _locked(notice_id)
        if notice.status == Status.DRAFT:
            # School staff schedule their own school's letters.
            _authorise_school_letter(approver, notice)
        else:
            _authorise_review(approver, notice)
        _transition(notice, Action.APPROVED, actor=approver)
        if notice.publish_at is None or notice.publish_at <= now:
            _publish(notice, actor=approver, now=now)
    return notice


def notice_emergency_publish(
    *, officer: User, notice_id: int, now: datetime | None = None
) -> Notice:
    """A disaster officer publishes a warning or an emergency without review; approvers take a
    second look afterwards."""
    now = now or timezone.now()
    with transaction.atomic():
        notice = _locked(notice_id)
        if not officer.has_perm("notices.emergency_publish"):
            raise PermissionDenied(_("Only a disaster officer may publish without review."))
        if notice.category != Category.DISASTER or not may_edit(officer, notice):
            raise PermissionDenied(_("Only a disaster notice may be published without review."))
        if URGENCY_RANK[notice.urgency] < URGENCY_RANK[Urgency.WARNING]:
            raise ValidationError(
                _("Only a warning or an emergency may be published without review.")
            )
        notice.needs_second_look = True
        _publish(notice, actor=officer, now=now, action=Action.EMERGENCY_PUBLISHED)
    logger.warning("Notice %s published without review by %s", notice.pk, officer.email)
    return notice


def notice_second_look(*, approver: User, notice_id: int, comment: str = "") -> Notice:
    with transaction.atomic():
        notice = _locked(notice_id)
        if not approver.has_perm("notices.review_notices"):
            raise PermissionDenied(_("Only an approver may take the second look."))
        if not notice.needs_second_look:
            raise ValidationError(_("This notice does not wait for a second look."))
        notice.needs_second_look = False
        notice.save(update_fields=["needs_second_look", "updated_at"])
        _record(
            notice,
            Action.SECOND_LOOK,
            actor=approver,
            source=notice.status,
            target=notice.status,
            comment=comment.strip(),
        )
    return notice


def notice_withdraw(*, staff: User, notice_id: int, comment: str) -> Notice:
    if not comment.strip():
        raise ValidationError(_("Say why the notice is withdrawn: it stays in its history."))
    with transaction.atomic():
        notice = _locked(notice_id)
        if not (may_edit(staff, notice) or staff.has_perm("notices.review_notices")):
            raise PermissionDenied(_("You may not withdraw this notice."))
        _transition(notice, Action.WITHDRAWN, actor=staff, comment=comment.strip())
        notice.ended_at = timezone.now()
        notice.save(update_fields=["ended_at", "updated_at"])
        _announce(notice, "withdrawn")
    return notice


def notice_acknowledge(*, resident: User, notice_id: int) -> Acknowledgement:
    """A parent confirms reading a letter that asks for it; confirming again changes nothing."""
    from portal.notices.selectors import letters_for_resident

    letter = letters_for_resident(resident_id=resident.pk).filter(pk=notice_id).first()
    if letter is None:
        raise Notice.DoesNotExist(notice_id)
    if not letter.requires_acknowledgement:
        raise ValidationError(_("This letter does not ask to be confirmed."))
    acknowledgement, _created = Acknowledgement.objects.get_or_create(
        notice=letter, resident=resident
    )
    return acknowledgement


# ----------------------------------------------------------------------------------------------
# Feeds: a version of a series from JMA, a CAP authority or a news feed (portal.feeds)
# ----------------------------------------------------------------------------------------------


class IngestAction(StrEnum):
    ISSUE = "issue"
    CANCEL = "cancel"
    LIFT = "lift"


class IngestOutcome(StrEnum):
    CREATED = "created"  # the series' first notice
    UPDATED = "updated"  # a new version superseded the series' live notice
    CANCELLED = "cancelled"  # the live notice was withdrawn
    LIFTED = "lifted"  # the live notice expired
    UNCHANGED = "unchanged"  # this version was ingested before
    STALE = "stale"  # an older version arrived after a newer one: changes nothing
    NOTHING_LIVE = "nothing_live"  # a cancellation or lift with no live notice to end


@dataclass(frozen=True)
class IngestedVersion:
    """One version of a feed's series, with its areas already mapped to portal areas."""

    source: str
    series: str
    version_id: str
    version_at: datetime
    action: str
    category: str
    urgency: str
    title_ja: str
    body_ja: str = ""
    title_en: str = ""
    body_en: str = ""
    area_ids: Sequence[int] = ()
    expires_at: datetime | None = None
    is_exercise: bool = False
    # version_ids of earlier versions this one updates or cancels (CAP ``references``).
    references: Sequence[str] = ()
    department_id: int | None = None


@dataclass(frozen=True)
class IngestResult:
    outcome: IngestOutcome
    notice_id: int | None = None
    # The notice this version ended (superseded, withdrawn or expired).
    ended_notice_id: int | None = None


def notice_ingest(*, version: IngestedVersion, now: datetime | None = None) -> IngestResult:
    """Store one version of a feed's series: the same version twice makes one notice, a later
    version supersedes the series' live notice, a cancellation withdraws it, a lift expires it,
    and an older version arriving late changes nothing. Raises ``ValidationError`` (nothing
    stored) for a version no notice can be made of."""
    now = now or timezone.now()
    _check_ingested(version)
    with transaction.atomic():
        _take_turns_with_other_ingests(version.source)
        if Notice.objects.filter(source=version.source, external_id=version.version_id).exists():
            return IngestResult(IngestOutcome.UNCHANGED)
        series = _locked_series(version)
        if isinstance(series, IngestOutcome):
            return IngestResult(series)
        live = _live_notice(series)
        if version.action == IngestAction.ISSUE:
            notice = _ingest_notice(version, series=series.key, supersedes=live, now=now)
            series.notice = notice
            series.save(update_fields=["notice"])
            outcome = IngestOutcome.CREATED if live is None else IngestOutcome.UPDATED
            return IngestResult(
                outcome, notice.pk, ended_notice_id=live.pk if live is not None else None
            )
        if live is None:
            return IngestResult(IngestOutcome.NOTHING_LIVE)
        if version.action == IngestAction.CANCEL:
            _end(live, Action.CANCELLED, "withdrawn", version, now=now)
            return IngestResult(IngestOutcome.CANCELLED, ended_notice_id=live.pk)
        _end(live, Action.LIFTED, "expired", version, now=now)
        return IngestResult(IngestOutcome.LIFTED, ended_notice_id=live.pk)


def _take_turns_with_other_ingests(source: str) -> None:
    """An alert and its update ingested at once by two workers must not each start a series of
    its own: ingests of one source kind take turns (each takes milliseconds). PostgreSQL: a
    transaction-scoped advisory lock; SQLite lets one writer at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [FEED_INGEST_LOCK, zlib.crc32(source.encode()) & 0x7FFFFFFF],
            )


# The advisory locks' first key: "feed" in ASCII.
FEED_INGEST_LOCK = 0x66656564


def _check_ingested(version: IngestedVersion) -> None:
    errors: dict[str, list[str]] = {}

    def refuse(field_name: str, message: str) -> None:
        errors.setdefault(field_name, []).append(message)

    if version.source not in Source.values or version.source == Source.STAFF:
        refuse("source", f"not a feed source: {version.source!r}")
    if version.action not in set(IngestAction):
        refuse("action", f"unknown action: {version.action!r}")
    if not 0 < len(version.series) <= 200:
        refuse("series", "a series key has 1 to 200 characters")
    if not 0 < len(version.version_id) <= 300:
        refuse("version_id", "a version identifier has 1 to 300 characters")
    if timezone.is_naive(version.version_at):
        refuse("version_at", "the version's time has no time zone")
    if version.category not in Category.values or version.category == Category.SCHOOL:
        refuse("category", f"not a category a feed may use: {version.category!r}")
    if version.urgency not in Urgency.values:
        refuse("urgency", f"unknown urgency: {version.urgency!r}")
    if version.action == IngestAction.ISSUE and not version.title_ja.strip():
        refuse("title_ja", "an item without a title")
    for name in ("title_ja", "title_en"):
        if len(getattr(version, name)) > 200:
            refuse(name, "a title has at most 200 characters")
    for name in ("body_ja", "body_en"):
        for problem in markdown_problems(getattr(version, name)):
            refuse(name, problem)
    if version.expires_at is not None and timezone.is_naive(version.expires_at):
        refuse("expires_at", "the expiry time has no time zone")
    if errors:
        raise ValidationError(errors)


def _locked_series(version: IngestedVersion) -> FeedSeries | IngestOutcome:
    """The series row, locked, advanced to this version; or why this version changes nothing.

    The series is the one this version or any version it names already belongs to (a CAP update
    names the alert it updates, and may arrive first), else a new one under its own key."""
    named = [version.version_id, *version.references]
    # An exercise never updates, cancels or lifts a real warning, nor the other way round.
    known = (
        FeedVersion.objects.filter(
            source=version.source,
            version_id__in=named,
            series__is_exercise=version.is_exercise,
        )
        .values_list("series_id", flat=True)
        .first()
    )
    if known is not None:
        series = FeedSeries.objects.select_for_update().get(pk=known)
        created = False
    else:
        series, created = FeedSeries.objects.select_for_update().get_or_create(
            source=version.source,
            key=("exercise|" if version.is_exercise else "") + version.series,
            defaults={
                "is_exercise": version.is_exercise,
                "latest_version_id": version.version_id,
                "latest_version_at": version.version_at,
            },
        )
    _remember_versions(series, named)
    if created:
        return series
    if version.version_id == series.latest_version_id:
        return IngestOutcome.UNCHANGED
    if version.version_at < series.latest_version_at:
        return IngestOutcome.STALE
    series.latest_version_id = version.version_id
    series.latest_version_at = version.version_at
    series.save(update_fields=["latest_version_id", "latest_version_at"])
    return series


def _remember_versions(series: FeedSeries, version_ids: Sequence[str]) -> None:
    # A version already known keeps its series (another worker may be naming it right now).
    FeedVersion.objects.bulk_create(
        [
            FeedVersion(source=series.source, version_id=version_id, series=series)
            for version_id in dict.fromkeys(version_ids)
        ],
        ignore_conflicts=True,
    )


def _live_notice(series: FeedSeries) -> Notice | None:
    if series.notice_id is None:
        return None
    notice = _locked(series.notice_id)
    return notice if notice.status == Status.PUBLISHED else None


def _ingest_notice(
    version: IngestedVersion, *, series: str, supersedes: Notice | None, now: datetime
) -> Notice:
    notice = Notice.objects.create(
        category=version.category,
        urgency=version.urgency,
        title_ja=version.title_ja.strip(),
        title_en=version.title_en.strip(),
        body_ja=version.body_ja,
        body_en=version.body_en,
        expires_at=version.expires_at,
        department_id=version.department_id,
        source=version.source,
        external_id=version.version_id,
        series=series,
        is_exercise=version.is_exercise,
        supersedes=supersedes,
        is_public=True,
    )
    notice.areas.set(Area.objects.filter(pk__in=list(version.area_ids)))
    with relations_unchanged(notice):
        _record(notice, Action.CREATED, actor=None, source="", target=Status.DRAFT)
        _transition(notice, Action.INGESTED, actor=None, comment=version.version_id)
        _publish(notice, actor=None, now=now)
        if notice.expires_at is not None and notice.expires_at <= now:
            # Kept for its history (and so that the same version is not ingested again), but
            # residents never see what expired before it arrived.
            _transition(notice, Action.EXPIRED, actor=None, comment="expired before it arrived")
            notice.ended_at = now
            notice.save(update_fields=["ended_at", "updated_at"])
            _announce(notice, "expired")
    return notice


def _end(
    notice: Notice, action: str, change: str, version: IngestedVersion, *, now: datetime
) -> None:
    _transition(notice, action, actor=None, comment=version.version_id)
    notice.ended_at = now
    notice.save(update_fields=["ended_at", "updated_at"])
    _announce(notice, change)


# ----------------------------------------------------------------------------------------------
# Time: beat publishes what is due and expires what has run out (idempotent)
# ----------------------------------------------------------------------------------------------


def notices_publish_due(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    published = []
    with transaction.atomic():
        due = (
            Notice.objects.select_for_update(skip_locked=True)
            .filter(status=Status.APPROVED, publish_at__lte=now)
            .order_by("publish_at", "id")
        )
        for notice in due:
            _publish(notice, actor=None, now=now)
            published.append(notice.pk)
    return published


def notices_expire_due(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    expired = []
    with transaction.atomic():
        due = (
            Notice.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PUBLISHED, expires_at__lte=now)
            .order_by("expires_at", "id")
        )
        for notice in due:
            _transition(notice, Action.EXPIRED, actor=None)
            notice.ended_at = now
            notice.save(update_fields=["ended_at", "updated_at"])
            _announce(notice, "expired")
            expired.append(notice.pk)
    return expired


# ----------------------------------------------------------------------------------------------
# Inside
# ----------------------------------------------------------------------------------------------


def _publish(
    notice: Notice, *, actor: User | None, now: datetime, action: str = Action.PUBLISHED
) -> None:
    notice.published_at = now
    notice.save(update_fields=["published_at", "needs_second_look", "updated_at"])
    _transition(notice, action, actor=actor)
    _announce(notice, "published")
    if notice.supersedes_id is not None:
        earlier = _locked(notice.supersedes_id)
        if earlier.status in {Status.PUBLISHED, Status.APPROVED}:
            _transition(
                earlier,
                Action.SUPERSEDED,
                actor=actor,
                comment=f"#{notice.pk}" + (" (cancellation)" if notice.is_cancellation else ""),
            )
            earlier.ended_at = now
            earlier.save(update_fields=["ended_at", "updated_at"])
            _announce(earlier, "superseded")


def _transition(notice: Notice, action: str, *, actor: User | None, comment: str = "") -> None:
    step = lifecycle.transition_for(action, notice.status)
    notice.status = step.target
    notice.save(update_fields=["status", "updated_at"])
    _record(notice, action, actor=actor, source=step.source, target=step.target, comment=comment)


def _record(
    notice: Notice,
    action: str,
    *,
    actor: User | None,
    source: str,
    target: str,
    comment: str = "",
) -> None:
    NoticeEvent.objects.create(
        notice=notice,
        action=action,
        from_status=source,
        to_status=target,
        actor=actor,
        actor_email=actor.email if actor is not None else "",
        comment=comment,
        snapshot=notice_snapshot(notice),
    )


def _announce(notice: Notice, change: str) -> None:
    """What residents can see changed: the recommender and the notifications subscribe to
    ``portal.notices.signals.notice_changed``, which the worker sends."""
    enqueue_on_commit(announce_change, notice_id=notice.pk, change=change)


def _locked(notice_id: int) -> Notice:
    return Notice.objects.select_for_update().get(pk=notice_id)


def _authorise_edit(user: User, notice: Notice) -> None:
    if not may_edit(user, notice):
        raise PermissionDenied(_("You may not edit this notice."))


def _authorise_review(approver: User, notice: Notice) -> None:
    if not approver.has_perm("notices.review_notices"):
        raise PermissionDenied(_("Only an approver may review notices."))
    authors = set(
        notice.events.filter(
            action__in=[Action.CREATED, Action.EDITED, Action.SUBMITTED]
        ).values_list("actor_id", flat=True)
    )
    if approver.pk in authors or notice.created_by_id == approver.pk:
        raise PermissionDenied(_("You wrote or edited this notice: another approver reviews it."))


def _authorise_school_letter(user: User, notice: Notice) -> None:
    if notice.category != Category.SCHOOL or notice.school_id is None:
        raise lifecycle.TransitionNotAllowed(Action.APPROVED, notice.status)
    if not (
        user.has_perm("notices.publish_school_letters")
        and user.school_memberships.filter(school_id=notice.school_id).exists()
    ):
        raise PermissionDenied(_("Only staff of the letter's school may schedule it."))


def _checked(draft: NoticeDraft, *, author: User) -> _Resolved:
    """Every reason the draft cannot be stored, at once; nothing is written before this."""
    errors: dict[str, list[str]] = {}

    def refuse(field_name: str, message: str) -> None:
        errors.setdefault(field_name, []).append(message)

    if draft.category not in Category.values:
        refuse("category", _("Choose a category."))
    if draft.urgency not in Urgency.values:
        refuse("urgency", _("Choose an urgency."))
    if not draft.title_ja.strip():
        refuse("title_ja", _("A notice needs a Japanese title."))
    for name in ("body_ja", "body_en", "body_easy"):
        for problem in markdown_problems(getattr(draft, name)):
            refuse(name, problem)
    if draft.publish_at and draft.expires_at and draft.expires_at <= draft.publish_at:
        refuse("expires_at", _("A notice must expire after it is published."))
    if draft.expires_at and draft.expires_at <= timezone.now():
        refuse("expires_at", _("This expiry time has already passed."))

    targeting = draft.targeting
    areas = list(Area.objects.filter(code__in=targeting.area_codes))
    _refuse_unknown(refuse, "areas", targeting.area_codes, {a.code for a in areas}, _("area"))
    interests = list(InterestTag.objects.filter(code__in=targeting.interest_codes))
    _refuse_unknown(
        refuse, "interests", targeting.interest_codes, {i.code for i in interests}, _("interest")
    )
    for band in targeting.age_bands:
        if band not in AGE_BANDS:
            refuse("age_bands", _("Unknown age band: %(band)s") % {"band": band})
    school_codes = {code for code, _grade in targeting.school_audiences}
    schools = {s.code: s for s in School.objects.filter(code__in=school_codes)}
    _refuse_unknown(refuse, "schools", school_codes, set(schools), _("school"))
    for _code, grade in targeting.school_audiences:
        if grade is not None and not 1 <= grade <= 12:
            refuse("schools", _("A grade is between 1 and 12."))

    department_id = None
    if draft.department_code:
        department = Department.objects.filter(code=draft.department_code).first()
        if department is None:
            refuse(
                "department", _("Unknown department: %(code)s") % {"code": draft.department_code}
            )
        else:
            department_id = department.pk
    school = None
    if draft.category == Category.SCHOOL:
        school = School.objects.filter(code=draft.school_code).first()
        if school is None:
            refuse("school", _("A school letter names its school."))
    elif draft.school_code:
        refuse("school", _("Only a school letter names a school."))
    if draft.category == Category.SCHOOL and school is not None:
        elsewhere = sorted(
            code for code, _grade in targeting.school_audiences if code != school.code
        )
        if elsewhere:
            refuse(
                "schools",
                _("A school's letter goes to its own families only, not to: %(codes)s")
                % {"codes": ", ".join(elsewhere)},
            )
    if draft.category == Category.SCHOOL and draft.is_public:
        refuse("is_public", _("A school letter is never public: it is for its families only."))
    if draft.requires_acknowledgement and draft.category != Category.SCHOOL:
        refuse("requires_acknowledgement", _("Only a school letter asks for acknowledgement."))

    supersedes = None
    if draft.supersedes_id is not None:
        supersedes = Notice.objects.filter(pk=draft.supersedes_id).first()
        # One answer whether the number is unknown, not published or not the author's own, so
        # that the field tells nothing about other departments' notices.
        if (
            supersedes is None
            or supersedes.status not in {Status.PUBLISHED, Status.APPROVED}
            or not may_edit(author, supersedes)
        ):
            refuse(
                "supersedes",
                _("No published or scheduled notice you may edit has this number."),
            )
    elif draft.is_cancellation:
        refuse("supersedes", _("A cancellation names the notice it cancels."))

    if errors:
        raise ValidationError(errors)
    return _Resolved(
        areas=areas,
        interests=interests,
        audiences=[(schools[code], grade) for code, grade in targeting.school_audiences],
        department_id=department_id,
        school=school,
        supersedes=supersedes,
    )


def _refuse_unknown(
    refuse: object, field_name: str, asked: Sequence[str] | set[str], known: set[str], what: str
) -> None:
    unknown = sorted(set(asked) - known)
    if unknown:
        refuse(  # type: ignore[operator]
            field_name,
            _("Unknown %(what)s: %(codes)s") % {"what": what, "codes": ", ".join(unknown)},
        )


def _apply(notice: Notice, draft: NoticeDraft, resolved: _Resolved) -> None:
    for name in (
        "category", "urgency", "title_ja", "title_en", "title_easy", "body_ja", "body_en",
        "body_easy", "publish_at", "expires_at", "is_public", "requires_acknowledgement",
        "is_cancellation",
    ):  # fmt: skip
        setattr(notice, name, getattr(draft, name))
    notice.department_id = resolved.department_id
    notice.school = resolved.school
    notice.supersedes = resolved.supersedes
    notice.age_bands = sorted(set(draft.targeting.age_bands))


def _set_targeting(notice: Notice, draft: NoticeDraft, resolved: _Resolved) -> None:
    notice.areas.set(resolved.areas)
    notice.interests.set(resolved.interests)
    notice.school_audiences.all().delete()
    SchoolAudience.objects.bulk_create(
        SchoolAudience(notice=notice, school=school, grade=grade)
        for school, grade in dict.fromkeys(resolved.audiences)
    )
