from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import get_language
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

    objects = PortalUserManager()  # type: ignore[assignment,misc]

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("access_staff_console", _("Can open the staff console"))]

    def __str__(self) -> str:
        return self.email


class LocalisedNameMixin(models.Model):
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        """The name in the active language, falling back to Japanese."""
        if get_language() == "en" and self.name_en:
            return self.name_en
        return self.name_ja


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
        related_name="children",
        null=True,
        blank=True,
    )
    name_kana = models.CharField(_("reading (kana)"), max_length=200, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

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

    def hazard_labels(self) -> list[str]:
        """The hazards this site is designated for, in the active language."""
        fields = {field.name: field for field in self._meta.fields}
        return [
            str(fields[name].verbose_name) for name in self.HAZARD_FIELDS if getattr(self, name)
        ]


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
