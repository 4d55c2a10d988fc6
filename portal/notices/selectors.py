"""Reads of notices: who may do what with them, what residents may see, the queues of staff."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_noop

from consent import policy
from consent.catalogue import Category as DataCategory
from consent.catalogue import PurposeCode, RecipientCode
from portal.models import Area, User
from portal.notices.models import Category, Notice, Status, Urgency

# Targeting by anything but areas; with no areas either, a notice is for everyone.
AIMED_BY_AREA_ALONE = Q(interests=None, school_audiences=None, age_bands=[])
AIMED_AT_EVERYONE = AIMED_BY_AREA_ALONE & Q(areas=None)


def may_edit(user: User | AnonymousUser, notice: Notice) -> bool:
    """Publishers edit their departments' notices, disaster officers disaster notices, school
    staff their schools' letters."""
    if not isinstance(user, User) or not user.is_active:
        return False
    if notice.category == Category.SCHOOL:
        return bool(
            notice.school_id is not None
            and user.has_perm("notices.publish_school_letters")
            and user.school_memberships.filter(school_id=notice.school_id).exists()
        )
    if notice.category == Category.DISASTER and user.has_perm("notices.emergency_publish"):
        return True
    return bool(
        notice.department_id is not None
        and user.has_perm("notices.edit_notices")
        and user.notice_departments.filter(pk=notice.department_id).exists()
    )


def may_view(user: User | AnonymousUser, notice: Notice) -> bool:
    """Who edits a notice sees it in the console, and so do approvers, who review any."""
    return may_edit(user, notice) or (
        isinstance(user, User) and user.is_active and user.has_perm("notices.review_notices")
    )


def editable_notices(user: User) -> QuerySet[Notice]:
    """The notices ``user`` may edit (portal/notices/selectors.may_edit, as one query)."""
    mine = Q(pk__in=[])
    if user.has_perm("notices.edit_notices"):
        mine |= Q(department__in=user.notice_departments.all()) & ~Q(category=Category.SCHOOL)
    if user.has_perm("notices.emergency_publish"):
        mine |= Q(category=Category.DISASTER)
    if user.has_perm("notices.publish_school_letters"):
        mine |= Q(
            category=Category.SCHOOL,
            school__in=user.school_memberships.values("school_id"),
        )
    return (
        Notice.objects.filter(mine)
        .select_related("department", "school")
        .order_by("-updated_at", "-id")
    )


def notice_snapshot(notice: Notice) -> dict[str, Any]:
    """The notice as its history keeps it: text, times, targeting, by stable codes."""
    return {
        "status": notice.status,
        "category": notice.category,
        "urgency": notice.urgency,
        "title_ja": notice.title_ja,
        "title_en": notice.title_en,
        "title_easy": notice.title_easy,
        "body_ja": notice.body_ja,
        "body_en": notice.body_en,
        "body_easy": notice.body_easy,
        "publish_at": _iso(notice.publish_at),
        "expires_at": _iso(notice.expires_at),
        "department": notice.department.code if notice.department else "",
        "school": notice.school.code if notice.school else "",
        "is_public": notice.is_public,
        "requires_acknowledgement": notice.requires_acknowledgement,
        "supersedes": notice.supersedes_id,
        "is_cancellation": notice.is_cancellation,
        "is_exercise": notice.is_exercise,
        "age_bands": list(notice.age_bands),
        **_relations(notice),
    }


# Inside ``relations_unchanged``: what the notice's history needs of its related rows, read once.
_relations_read: ContextVar[dict[int, dict[str, Any]] | None] = ContextVar(
    "notice_relations_read", default=None
)


@contextmanager
def relations_unchanged(notice: Notice) -> Iterator[None]:
    """Promise that the notice's targeting and attachments do not change inside the block, so
    that each history row written in it does not read them again (a feed writes three)."""
    token = _relations_read.set({notice.pk: _read_relations(notice)})
    try:
        yield
    finally:
        _relations_read.reset(token)


def _relations(notice: Notice) -> dict[str, Any]:
    read = _relations_read.get()
    if read is not None and notice.pk in read:
        return read[notice.pk]
    return _read_relations(notice)


def _read_relations(notice: Notice) -> dict[str, Any]:
    if not notice.pk:
        return {"areas": [], "interests": [], "school_audiences": [], "attachments": []}
    return {
        "areas": sorted(notice.areas.values_list("code", flat=True)),
        "interests": sorted(notice.interests.values_list("code", flat=True)),
        "school_audiences": sorted(
            [a.school.code, a.grade] for a in notice.school_audiences.select_related("school")
        ),
        "attachments": [a.name for a in notice.attachments.all()],
    }


def published_notices(*, now: Any = None) -> QuerySet[Notice]:
    """Published, not past their expiry (beat may not have expired them yet), and real: an
    exercise or a test from a feed is never shown to residents."""
    now = now or timezone.now()
    return Notice.objects.filter(status=Status.PUBLISHED, is_exercise=False).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def public_notices(*, now: Any = None) -> QuerySet[Notice]:
    """What anyone may see without signing in: published, public, and aimed at everyone."""
    return (
        published_notices(now=now)
        .filter(is_public=True)
        .exclude(category=Category.SCHOOL)
        .filter(AIMED_AT_EVERYONE)
    )


def visible_notices(*, now: Any = None) -> QuerySet[Notice]:
    """What anyone holding a notice's link may open: published, unexpired, marked public, and
    never a school letter (those are only for the parents they are meant for)."""
    return published_notices(now=now).filter(is_public=True).exclude(category=Category.SCHOOL)


def visible_notice(*, pk: int) -> Notice | None:
    return visible_notices().select_related("department").filter(pk=pk).first()


def visible_successor(*, pk: int) -> Notice | None:
    """The visible notice that superseded notice ``pk``, if ``pk`` itself was public."""
    superseded = (
        Notice.objects.filter(pk=pk, status=Status.SUPERSEDED, is_public=True)
        .exclude(category=Category.SCHOOL)
        .exists()
    )
    if not superseded:
        return None
    return visible_notices().filter(supersedes_id=pk).order_by("-published_at", "-id").first()


def public_notice_list(
    *, category: str = "", area_code: str = "", now: Any = None
) -> QuerySet[Notice]:
    """The public list: notices for everyone and, with an area, the public notices targeted at
    that area, the areas it lies in or the areas within it; warnings and emergencies first,
    then newest first."""
    notices = public_notices(now=now)
    if area_code:
        related = related_area_ids(area_code=area_code)
        targeted = Notice.areas.through.objects.filter(area_id__in=related).values("notice_id")
        notices = visible_notices(now=now).filter(
            Q(pk__in=public_notices(now=now).values("pk")) | Q(pk__in=targeted)
        )
    if category:
        notices = notices.filter(category=category)
    return notices.annotate(
        urgent=Case(
            When(urgency__in=[Urgency.WARNING, Urgency.EMERGENCY], then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by("-urgent", "-published_at", "-id")


def related_area_ids(*, area_code: str) -> set[int]:
    """The area, the areas it lies in, and every area within it (a district's neighbourhoods)."""
    area = Area.objects.filter(code=area_code).first()
    if area is None:
        return set()
    return Area.objects.ids_with_ancestors([area.pk]) | Area.objects.ids_with_descendants([area.pk])


def notice_areas() -> list[tuple[Area, list[Area]]]:
    """The areas a visitor may filter by: each municipality with its districts."""
    districts: dict[int | None, list[Area]] = {}
    for district in Area.objects.filter(kind=Area.Kind.DISTRICT).order_by("code"):
        districts.setdefault(district.parent_id, []).append(district)
    municipalities = Area.objects.filter(kind=Area.Kind.MUNICIPALITY).order_by("code")
    return [(m, districts.get(m.pk, [])) for m in municipalities]


def review_queue() -> QuerySet[Notice]:
    return Notice.objects.filter(status=Status.IN_REVIEW).order_by("updated_at", "id")


def second_look_queue() -> QuerySet[Notice]:
    return Notice.objects.filter(needs_second_look=True).order_by("published_at", "id")


def _iso(moment: Any) -> str:
    """In Japan time, however the moment came in: the same instant always reads the same, so
    the history shows no change where there was none."""
    return timezone.localtime(moment).isoformat() if moment else ""


# The read of a resident's children for their school letters.
SCHOOL_LETTERS_NEED = policy.Need(
    purpose=PurposeCode.SCHOOL_LETTERS,
    reader=policy.Reader(
        kind="view",
        name=gettext_noop("your children's school letters"),
        recipient=RecipientCode.CITY,
    ),
    categories=(DataCategory.HOUSEHOLD,),
)


def letters_for_resident(*, resident_id: int) -> QuerySet[Notice]:
    """The published school letters meant for the resident's children, newest first.

    The children's schools and grades are read through the consent gate for "school letters
    for my children": a resident who does not share their household for it gets no letters.
    """
    (household,) = policy.read_profile_for_purposes(
        resident_id=resident_id, needs=[SCHOOL_LETTERS_NEED]
    )
    return letters_for_household(household)


def letters_for_household(household: policy.ProfileProjection) -> QuerySet[Notice]:
    """The published school letters meant for the children of a household read through the
    gate for school letters (``SCHOOL_LETTERS_NEED``), newest first."""
    if household.purpose != PurposeCode.SCHOOL_LETTERS or not household.children:
        return Notice.objects.none()
    meant_for_a_child = Q()
    for child in household.children:
        meant_for_a_child |= Q(
            school_audiences__school_id=child.school_id, school_audiences__grade=child.grade
        )
        meant_for_a_child |= Q(
            school_audiences__school_id=child.school_id, school_audiences__grade__isnull=True
        )
        # A letter of the school with no audience of its own is for all its families.
        meant_for_a_child |= Q(school_id=child.school_id, school_audiences=None)
    return (
        published_notices()
        .filter(category=Category.SCHOOL)
        .filter(meant_for_a_child)
        .distinct()
        .order_by("-published_at", "-id")
    )


URGENT = ("warning", "emergency")
# A notice's texts, which a list of titles need not load.
NOTICE_TEXTS = ("body_ja", "body_en", "body_easy")


def urgent_notices(*, area_ids: Collection[int] = (), limit: int = 5) -> list[Notice]:
    """The newest ``limit`` warnings and emergencies in force: those for everyone, and those
    aimed at one of these areas or at an area above one of them (a warning for a district
    reaches its neighbourhoods). Without their texts: the banner shows titles.

    Read from the database alone, so that they show while Redis or the worker is away. Most of
    the time none is in force: one narrow query (through the index of urgent notices) says so,
    and only when some are does their targeting get looked at.
    """
    in_force = list(
        published_notices()
        .filter(urgency__in=URGENT)
        .exclude(category=Category.SCHOOL)
        .values_list("pk", flat=True)
    )
    if not in_force:
        return []
    reached = Area.objects.ids_with_ancestors(area_ids)
    return list(
        Notice.objects.filter(pk__in=in_force)
        # A warning also aimed by age, interest or school needs what the banner does not read:
        # a public one is shown to everyone in its areas (too many is the safe side); one kept
        # from the public reaches its residents through their own lists.
        .filter(AIMED_BY_AREA_ALONE | Q(is_public=True))
        .filter(Q(areas=None) | Q(areas__in=reached))
        .distinct()
        .defer(*NOTICE_TEXTS)
        .order_by("-published_at", "-id")[:limit]
    )
