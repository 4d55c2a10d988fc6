"""Notices: everything a resident can be shown, whether staff wrote it or a feed brought it.

A notice's targeting is data (areas, age bands, school audiences, interests), never code, so
that the recommender and the notifications can evaluate it in bulk. Its lifecycle is in
``portal.notices.lifecycle``; every change of state is a service with a ``NoticeEvent`` row
written in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from portal.models import Area, InterestTag, LocalisedNameMixin, School


class Department(LocalisedNameMixin):
    """A department of the city; a publisher edits only the notices of their departments."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        related_name="notice_departments",
        blank=True,
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SchoolStaffMembership(models.Model):
    """A member of school staff publishes letters for this school only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="school_memberships"
    )
    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("school staff membership")
        verbose_name_plural = _("school staff memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "school"], name="one_membership_per_school")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.school}"


class Category(models.TextChoices):
    CITY_NEWS = "city_news", _("City news")
    SNOW = "snow", _("Snow clearing")
    SCHOOL = "school", _("School letters")
    DISASTER = "disaster", _("Disaster prevention")
    HEALTH = "health", _("Health and childcare")
    EVENTS = "events", _("Events")
    TRANSPORT = "transport", _("Transport")
    GARBAGE = "garbage", _("Garbage and recycling")


class Urgency(models.TextChoices):
    INFORMATION = "information", _("Information")
    ADVISORY = "advisory", _("Advisory")
    WARNING = "warning", _("Warning")
    EMERGENCY = "emergency", _("Emergency")


# The bands a notice can target, as consent.policy.age_band names them.
AGE_BANDS = tuple(f"{low}-{low + 9}" for low in range(0, 100, 10))

# From least to most urgent: sorting, and "at least a warning".
URGENCY_RANK = {urgency: rank for rank, urgency in enumerate(Urgency.values)}


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved (scheduled)")
    PUBLISHED = "published", _("Published")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SUPERSEDED = "superseded", _("Superseded")


class Source(models.TextChoices):
    STAFF = "staff", _("City staff")
    JMA = "jma", _("Japan Meteorological Agency")
    CAP = "cap", _("CAP feed")
    RSS = "rss", _("RSS/Atom feed")
    SNOW = "snow", _("Snow clearing service")
    SCHOOL = "school", _("School")


class Notice(models.Model):
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    urgency = models.CharField(
        _("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.INFORMATION
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )

    title_ja = models.CharField(_("title (Japanese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    title_easy = models.CharField(_("title (easy Japanese)"), max_length=200, blank=True)
    body_ja = models.TextField(_("text (Japanese, Markdown)"), blank=True)
    body_en = models.TextField(_("text (English, Markdown)"), blank=True)
    body_easy = models.TextField(_("text (easy Japanese, Markdown)"), blank=True)

    # When it is to be published (empty: as soon as it is approved) and to expire (empty: never).
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, editable=False)

    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notices",
    )
    # A school letter's school; only its staff write it.
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.STAFF
    )
    # The document's own identifier at its source (a JMA EventID, a CAP identifier, a feed
    # entry's id): a document ingested twice makes one notice.
    external_id = models.CharField(_("identifier at the source"), max_length=300, blank=True)
    supersedes = models.ForeignKey(
        "self",
        verbose_name=_("supersedes"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
    )
    # A feed's series (a JMA warning for a prefecture, a CAP alert and its updates, a news
    # entry): its versions supersede one another (portal.notices.models.FeedSeries).
    series = models.CharField(_("series at the source"), max_length=210, blank=True)
    # JMA 訓練/試験 and CAP Exercise/Test: kept, never shown to residents as real.
    is_exercise = models.BooleanField(_("exercise or test"), default=False)
    # A cancellation says the notice it supersedes no longer holds.
    is_cancellation = models.BooleanField(_("cancellation"), default=False)
    # A targeted notice is shown to anyone holding its link only when marked public; school
    # letters never are.
    is_public = models.BooleanField(_("public"), default=True)
    requires_acknowledgement = models.BooleanField(_("asks for acknowledgement"), default=False)
    # Published without review by a disaster officer: approvers take a second look afterwards.
    needs_second_look = models.BooleanField(_("needs a second look"), default=False)

    # Targeting; none of it set means everyone.
    areas = models.ManyToManyField(Area, verbose_name=_("areas"), blank=True, related_name="+")
    age_bands = models.JSONField(_("age bands"), default=list, blank=True)
    interests = models.ManyToManyField(
        InterestTag, verbose_name=_("interests"), blank=True, related_name="+"
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="one_notice_per_source_document",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True)
                | Q(publish_at__isnull=True)
                | Q(expires_at__gt=models.F("publish_at")),
                name="notice_expires_after_it_is_published",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "publish_at"], name="notice_due_idx"),
            # "Warnings in force?", asked by every home page and its banner's refresh: a
            # handful of rows at most, however many notices the city has sent over the years.
            models.Index(
                fields=["published_at"],
                condition=Q(
                    status=Status.PUBLISHED, urgency__in=[Urgency.WARNING, Urgency.EMERGENCY]
                ),
                name="notice_urgent_idx",
            ),
        ]
        permissions = [
            ("edit_notices", "Can write notices of their departments"),
            ("review_notices", "Can approve or send back notices"),
            ("emergency_publish", "Can publish warnings without review"),
            ("publish_school_letters", "Can publish letters of their schools"),
            ("manage_notice_staff", "Can manage departments and school memberships"),
        ]

    def __str__(self) -> str:
        return self.title_ja

    @property
    def title(self) -> str:
        """The title in the active language, Japanese when there is no translation."""
        return _in_language(self.title_ja, self.title_en)

    @property
    def body(self) -> str:
        return _in_language(self.body_ja, self.body_en)

    @property
    def is_targeted(self) -> bool:
        return bool(
            self.age_bands
            or self.areas.exists()
            or self.interests.exists()
            or self.school_audiences.exists()
        )


class FeedSeries(models.Model):
    """The newest version of a feed's series seen so far: a later version supersedes the series'
    live notice, an older one arriving late changes nothing. Its row is what ingesting locks, so
    two workers ingesting versions of one series take turns."""

    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    key = models.CharField(_("series"), max_length=210)
    is_exercise = models.BooleanField(_("exercise or test"), default=False)
    latest_version_id = models.CharField(_("latest version"), max_length=300)
    latest_version_at = models.DateTimeField(_("latest version issued at"))
    # The notice of the newest version that made one (a cancellation or a lift makes none).
    notice = models.ForeignKey(
        Notice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("feed series")
        verbose_name_plural = _("feed series")
        constraints = [
            models.UniqueConstraint(fields=["source", "key"], name="one_row_per_feed_series")
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.key}"


class FeedVersion(models.Model):
    """A version of a feed's series, seen or only named: a CAP update names the alerts it
    updates, so an alert arriving after its update is known to be older and changes nothing."""

    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    version_id = models.CharField(_("version"), max_length=300)
    series = models.ForeignKey(FeedSeries, on_delete=models.CASCADE, related_name="versions")

    class Meta:
        verbose_name = _("feed version")
        verbose_name_plural = _("feed versions")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "version_id"], name="one_series_per_feed_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.version_id}"


class SchoolAudience(models.Model):
    """Parents of children at ``school``, in ``grade`` if given."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="school_audiences")
    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="+"
    )
    grade = models.PositiveSmallIntegerField(_("grade"), null=True, blank=True)

    class Meta:
        verbose_name = _("school audience")
        verbose_name_plural = _("school audiences")
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "school", "grade"], name="one_audience_per_school_grade"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school} {self.grade or ''}".strip()


class Attachment(models.Model):
    """A PDF or an image, checked by its content (portal/notices/attachments.py)."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="notices/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class NoticeEvent(models.Model):
    """One change of a notice: who, when, what (the notice as it was after it, for diffs)."""

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        EDITED = "edited", _("edited")
        SUBMITTED = "submitted", _("submitted for review")
        SENT_BACK = "sent_back", _("sent back")
        APPROVED = "approved", _("approved")
        PUBLISHED = "published", _("published")
        EMERGENCY_PUBLISHED = "emergency_published", _("published without review")
        SECOND_LOOK = "second_look", _("second look taken")
        WITHDRAWN = "withdrawn", _("withdrawn")
        EXPIRED = "expired", _("expired")
        SUPERSEDED = "superseded", _("superseded")
        INGESTED = "ingested", _("ingested from its source")
        CANCELLED = "cancelled", _("cancelled by its source")
        LIFTED = "lifted", _("lifted by its source")

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=24, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Status.choices, blank=True)
    # Empty for the system (beat publishing a due notice, a feed).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_email = models.EmailField(_("by (email)"), blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    comment = models.TextField(_("comment"), blank=True)
    snapshot = models.JSONField(_("the notice after the change"), default=dict)

    class Meta:
        verbose_name = _("notice event")
        verbose_name_plural = _("notice history")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.notice_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionError("A notice's history is append-only.")
        super().save(*args, **kwargs)


class Acknowledgement(models.Model):
    """A parent confirmed reading a letter that asked for it."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="acknowledgements")
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        constraints = [
            models.UniqueConstraint(fields=["notice", "resident"], name="one_acknowledgement")
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} {self.at:%Y-%m-%d %H:%M}"


def _in_language(japanese: str, english: str) -> str:
    if (get_language() or "ja").startswith("en") and english:
        return english
    return japanese
