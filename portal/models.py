from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import connections, models
from django.db.models.expressions import RawSQL
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class PortalUserManager(BaseUserManager["User"]):
    """Accounts are identified by email address; there is no username."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> User:
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractUser):
    """An account: a resident, or a member of city staff (``is_staff``).

    Resident attributes (places, household, interests…) do not live here: they are consented
    data and are read only through ``consent.policy``.
    """

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    # The resident's identity in the consent ledger: the ledger never names the account, so
    # deleting the account leaves only pseudonymous events behind.
    pseudonym = models.UUIDField(_("pseudonym"), default=uuid.uuid4, unique=True, editable=False)
    # Part of every session's authentication hash: raising it ends every session of the account
    # (the one making the change keeps its own through update_session_auth_hash). Raised when the
    # account gains an authenticator or a staff power, so that no session opened before keeps
    # powers it never proved a second factor for.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    objects = PortalUserManager()  # type: ignore[assignment,misc]

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("access_staff_console", _("Can open the staff console"))]

    def __str__(self) -> str:
        return self.email

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        key_salt = "portal.User.get_session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.session_epoch}", secret=secret, algorithm="sha256"
        ).hexdigest()


class LocalisedNameMixin(models.Model):
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        """The name in the active language, falling back to Japanese."""
        return self.in_language(self.name_ja, self.name_en)

    @staticmethod
    def in_language(name_ja: str, name_en: str) -> str:
        """Of a Japanese and an English name, the one for the active language."""
        return name_en if get_language() == "en" and name_en else name_ja


# One step of a walk of the area tree: the areas one level up, or down, from those reached.
_PARENTS_OF_WALK = (
    "SELECT a.parent_id FROM {area} a JOIN walk ON a.id = walk.id WHERE a.parent_id IS NOT NULL"
)
_CHILDREN_OF_WALK = "SELECT a.id FROM {area} a JOIN walk ON a.parent_id = walk.id"


class AreaManager(models.Manager["Area"]):
    """Walks of the area tree, each one recursive query (works on PostgreSQL and SQLite)."""

    def ids_with_ancestors(self, area_ids: Iterable[int]) -> set[int]:
        """These areas and every area they lie in (a neighbourhood's district and city)."""
        return self._closure(area_ids, step=_PARENTS_OF_WALK)

    def ids_with_descendants(self, area_ids: Iterable[int]) -> set[int]:
        """These areas and every area within them (a district's neighbourhoods)."""
        return self._closure(area_ids, step=_CHILDREN_OF_WALK)

    def with_ancestors_of(self, area_ids: Iterable[int]) -> models.QuerySet[Area]:
        """The areas ``ids_with_ancestors`` names, as a query (no query of its own)."""
        sql, params = self._walk(set(area_ids), step=_PARENTS_OF_WALK)
        return self.filter(pk__in=RawSQL(sql, params)) if params else self.none()

    def _closure(self, area_ids: Iterable[int], *, step: str) -> set[int]:
        found = set(area_ids)
        if not found:
            return found
        sql, params = self._walk(found, step=step)
        with connections[self.db].cursor() as cursor:
            cursor.execute(sql, params)
            return found | {area_id for (area_id,) in cursor.fetchall()}

    def _walk(self, start: set[int], *, step: str) -> tuple[str, list[int]]:
        area = connections[self.db].ops.quote_name(self.model._meta.db_table)
        placeholders = ", ".join(["%s"] * len(start))
        sql = (
            f"WITH RECURSIVE walk(id) AS (SELECT id FROM {area} WHERE id IN ({placeholders}) "
            f"UNION {step.format(area=area)}) SELECT id FROM walk"
        )
        return sql, sorted(start)


class Area(LocalisedNameMixin):
    """A place a notice can target: municipality → district → neighbourhood.

    Areas of several municipalities live side by side, so a resident's living sphere
    (生活圏) can cross municipal borders.
    """

    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("municipality")
        DISTRICT = "district", _("district")
        NEIGHBOURHOOD = "neighbourhood", _("neighbourhood")

    code = models.SlugField(
        _("code"),
        max_length=64,
        unique=True,
        help_text=_("Stable identifier, e.g. the JIS municipality code 072028."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent area"),
        on_delete=models.PROTECT,
        related_name="subareas",
        null=True,
        blank=True,
    )
    name_kana = models.CharField(_("reading (kana)"), max_length=200, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    objects = AreaManager()

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="municipality", parent__isnull=True)
                | (~models.Q(kind="municipality") & models.Q(parent__isnull=False)),
                name="area_only_municipalities_are_roots",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Shelter(LocalisedNameMixin):
    """A designated emergency evacuation site (指定緊急避難場所) or shelter (指定避難所).

    Source: 国土地理院 指定緊急避難場所・指定避難所データ (出典：国土地理院).
    """

    class Kind(models.TextChoices):
        EMERGENCY_SITE = "emergency", _("designated emergency evacuation site")
        SHELTER = "evacuation", _("designated shelter")

    source_id = models.CharField(_("source identifier"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="shelters"
    )
    address = models.CharField(_("address"), max_length=300)
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    for_flood = models.BooleanField(_("flood"), default=False)
    for_landslide = models.BooleanField(_("landslide"), default=False)
    for_storm_surge = models.BooleanField(_("storm surge"), default=False)
    for_earthquake = models.BooleanField(_("earthquake"), default=False)
    for_tsunami = models.BooleanField(_("tsunami"), default=False)
    for_large_fire = models.BooleanField(_("large fire"), default=False)
    for_inland_flooding = models.BooleanField(_("inland flooding"), default=False)
    for_volcano = models.BooleanField(_("volcano"), default=False)

    HAZARD_FIELDS = (
        "for_flood",
        "for_landslide",
        "for_storm_surge",
        "for_earthquake",
        "for_tsunami",
        "for_large_fire",
        "for_inland_flooding",
        "for_volcano",
    )

    class Meta:
        verbose_name = _("shelter")
        verbose_name_plural = _("shelters")
        ordering = ["name_ja"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "source_id"], name="shelter_unique_source_id"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def hazard_names(cls) -> dict[str, str]:
        """Each hazard field and its name in the active language."""
        fields = {field.name: field for field in cls._meta.fields}
        return {name: str(fields[name].verbose_name) for name in cls.HAZARD_FIELDS}

    def hazard_labels(self) -> list[str]:
        """The hazards this site is designated for, in the active language."""
        return [label for name, label in self.hazard_names().items() if getattr(self, name)]


class School(LocalisedNameMixin):
    class Kind(models.TextChoices):
        ELEMENTARY = "elementary", _("elementary school")
        JUNIOR_HIGH = "junior_high", _("junior high school")
        COMPULSORY = "compulsory", _("compulsory education school")
        HIGH = "high", _("high school")
        OTHER = "other", _("other school")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="schools"
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def grades(self) -> range:
        """Grades a pupil of this school may be in (1-based)."""
        return {
            self.Kind.ELEMENTARY: range(1, 7),
            self.Kind.JUNIOR_HIGH: range(1, 4),
            self.Kind.COMPULSORY: range(1, 10),
            self.Kind.HIGH: range(1, 4),
        }.get(self.Kind(self.kind), range(1, 7))


# ------------------------------------------------------------------------------------------------
# Resident attributes. Every one of them is consented data: read them ONLY through consent.policy
# and write them only through portal.residents.services. Reverse accessors are switched off
# (related_name="+") so that no code can reach them from a User by accident; a test enforces
# that no other module imports these models.
# ------------------------------------------------------------------------------------------------


class InterestTag(LocalisedNameMixin):
    """A curated interest residents can pick (childcare, sports, disaster preparedness…)."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("interest")
        verbose_name_plural = _("interests")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class PreferredLanguage(models.TextChoices):
    JAPANESE = "ja", "日本語"
    ENGLISH = "en", "English"


class ResidentProfile(models.Model):
    """The single-valued attributes of a resident; each column belongs to one data category."""

    resident = models.OneToOneField(User, on_delete=models.CASCADE, related_name="+")
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=PreferredLanguage.choices, blank=True
    )
    needs_large_text = models.BooleanField(_("large text"), default=False)
    needs_easy_japanese = models.BooleanField(_("easy Japanese (やさしい日本語)"), default=False)
    home_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    home_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    interests = models.ManyToManyField(InterestTag, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("resident profile")
        verbose_name_plural = _("resident profiles")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(birth_year__isnull=True)
                | models.Q(birth_year__gte=1900, birth_year__lte=2100),
                name="profile_birth_year_plausible",
            ),
            models.CheckConstraint(
                condition=models.Q(home_latitude__isnull=True, home_longitude__isnull=True)
                | models.Q(home_latitude__isnull=False, home_longitude__isnull=False),
                name="profile_home_location_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"profile #{self.pk}"


class PlaceKind(models.TextChoices):
    HOME = "home", pgettext_lazy("kind of place", "home")
    WORK = "work", pgettext_lazy("kind of place", "work")
    SCHOOL = "school", pgettext_lazy("kind of place", "school")
    FAMILY = "family", pgettext_lazy("kind of place", "family")
    OTHER = "other", pgettext_lazy("kind of place", "other")


class ResidentPlace(models.Model):
    """A place in the resident's living sphere (生活圏); areas may be in other municipalities."""

    resident = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=PlaceKind.choices)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        constraints = [
            models.UniqueConstraint(fields=["resident", "kind", "area"], name="place_unique"),
        ]

    def __str__(self) -> str:
        return f"place #{self.pk}"


class ResidentChild(models.Model):
    """A child in the household, known only by school and grade (for school letters)."""

    resident = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="+"
    )
    grade = models.PositiveSmallIntegerField(_("grade"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade__gte=1, grade__lte=9), name="child_grade_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"child #{self.pk}"


class ResidentInteraction(models.Model):
    """What one resident did with one notice (interaction history): shown, opened, saved,
    dismissed ("not interested"). Stored only while the resident shares interaction history;
    one row per resident and notice, updated in place, so that a busy home page adds no rows.

    Read for a purpose only through ``consent.policy`` (the recommender learns from it).
    """

    resident = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    notice = models.ForeignKey("notices.Notice", on_delete=models.CASCADE, related_name="+")
    first_shown_at = models.DateTimeField(_("first shown"), null=True, blank=True)
    shown_count = models.PositiveIntegerField(_("times shown"), default=0)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    saved_at = models.DateTimeField(_("saved"), null=True, blank=True)
    # Kept when the notice is unsaved: a resident's save counts once in the anonymous counts,
    # however often they save and unsave it.
    first_saved_at = models.DateTimeField(_("first saved"), null=True, blank=True)
    dismissed_at = models.DateTimeField(_("marked not interested"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        constraints = [
            models.UniqueConstraint(fields=["resident", "notice"], name="interaction_unique"),
        ]

    def __str__(self) -> str:
        return f"interaction #{self.pk}"


class StaffAuditQuerySet(models.QuerySet["StaffAuditEntry"]):
    """Audit rows are written once and never changed; deleting them is refused as well."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The staff audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The staff audit log is append-only.")


class StaffAuditManager(models.Manager["StaffAuditEntry"]):
    def record(
        self,
        *,
        actor: User | None,
        action: str,
        subject_pseudonym: uuid.UUID | None = None,
        reference: str = "",
        detail: dict[str, Any] | None = None,
        ip_address: str | None = None,
    ) -> StaffAuditEntry:
        """Append one entry; call inside the transaction of the action it records.

        It lives on the model (not in a services module) so that every app, consent included,
        can write to the one log without importing portal's feature packages.
        """
        return self.create(
            actor=actor,
            actor_email=actor.email if actor else "",
            action=action,
            subject_pseudonym=subject_pseudonym,
            reference=reference[:64],
            detail=detail or {},
            ip_address=ip_address,
        )


class StaffAuditEntry(models.Model):
    """One thing a member of staff did that touches a resident or the consent register.

    Residents appear only by pseudonym, never by email or name: the log outlives accounts and
    must not keep a deleted resident identifiable. Staff are named, as employees accountable for
    their actions.
    """

    occurred_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("staff member"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    # Kept when the staff account is deleted, so the log still says who it was.
    actor_email = models.EmailField(_("staff member's email"), blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    subject_pseudonym = models.UUIDField(_("resident (pseudonym)"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = StaffAuditManager.from_queryset(StaffAuditQuerySet)()

    class Meta:
        verbose_name = _("staff audit entry")
        verbose_name_plural = _("staff audit log")
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_email} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionError("The staff audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The staff audit log is append-only.")


class OutboxTask(models.Model):
    """A task a process could not hand to the broker yet (portal/infra/task_outbox.py).

    Written in the same transaction as the change that asks for the task, so that the task is
    neither lost while Redis is down nor sent for a change that was rolled back.
    """

    task_name = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    # Failures of this task itself (unknown to the worker, refused arguments); the broker being
    # away does not count: every task waits for it as long as it takes.
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # Set once the task itself failed too often: it is no longer tried, and /healthz says so.
    gave_up_at = models.DateTimeField(_("given up at"), null=True, blank=True)

    class Meta:
        verbose_name = _("task waiting for the broker")
        verbose_name_plural = _("tasks waiting for the broker")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"


class CacheFallbackEntry(models.Model):
    """A row of the cache's fallback table, used while Redis is away (portal/infra/cache.py).

    The table is what ``manage.py createcachetable`` would make for Django's database cache;
    it is a model so that ``migrate`` creates it like every other table.
    """

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "portal_cache_fallback"
        verbose_name = _("cache entry kept while Redis is away")
        verbose_name_plural = _("cache entries kept while Redis is away")

    def __str__(self) -> str:
        return self.cache_key
