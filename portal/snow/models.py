"""Plow vehicles, the bearer tokens they post with (only a hash is kept), and their positions.

A position is stored compactly: microdegrees as integers, speed and heading as small integers;
about 40 bytes a row, so 250 vehicles every 20 s for a winter day are about 1,080,000 rows, pruned
after SNOW_POSITION_RETENTION_DAYS.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Area


class Vehicle(models.Model):
    class Kind(models.TextChoices):
        PLOW = "plow", _("snow plow")
        GRADER = "grader", _("grader")
        BLOWER = "blower", _("snow blower")
        LOADER = "loader", _("loader")
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=100, unique=True)
    operator = models.CharField(_("operator company"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PLOW)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("plow vehicle")
        verbose_name_plural = _("plow vehicles")
        ordering = ["name"]
        permissions = [("manage_vehicles", "Can register plow vehicles and issue their tokens")]

    def __str__(self) -> str:
        return self.name

    @property
    def live_token_count(self) -> int:
        return sum(1 for token in self.tokens.all() if token.revoked_at is None)


class VehicleToken(models.Model):
    """What a vehicle's device sends as ``Authorization: Bearer …``: the SHA-256 of it is kept,
    never the token, so a copy of the database posts nothing."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    # The token's first characters, to tell tokens apart on the staff page.
    prefix = models.CharField(_("begins with"), max_length=12)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("vehicle token")
        verbose_name_plural = _("vehicle tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.vehicle} {self.prefix}…"


class PlowPosition(models.Model):
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="positions")
    at = models.DateTimeField(_("time of the fix"))
    lat_e6 = models.IntegerField(_("latitude (microdegrees)"))
    lon_e6 = models.IntegerField(_("longitude (microdegrees)"))
    working = models.BooleanField(_("plowing"))
    heading = models.SmallIntegerField(_("heading (degrees)"), null=True, blank=True)
    speed_kmh = models.SmallIntegerField(_("speed (km/h)"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("plow position")
        verbose_name_plural = _("plow positions")
        constraints = [
            # A fix sent twice (a retry after a lost answer) is stored once.
            models.UniqueConstraint(fields=["vehicle", "at"], name="one_fix_per_vehicle_time")
        ]
        indexes = [models.Index(fields=["at"], name="plow_position_time_idx")]

    def __str__(self) -> str:
        return f"{self.vehicle_id} {self.at:%Y-%m-%d %H:%M:%S}"

    @property
    def lat(self) -> float:
        return self.lat_e6 / 1e6

    @property
    def lon(self) -> float:
        return self.lon_e6 / 1e6


class AreaPlowStatus(models.Model):
    """When a working plow last passed an area (within SNOW_PASS_DISTANCE_M of its point)."""

    area = models.OneToOneField(Area, on_delete=models.CASCADE, related_name="plow_status")
    last_plowed_at = models.DateTimeField(_("last plowed at"))
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("plow status of an area")
        verbose_name_plural = _("plow status of areas")

    def __str__(self) -> str:
        return f"{self.area} {self.last_plowed_at:%Y-%m-%d %H:%M}"


class StatusWatermark(models.Model):
    """Up to when positions were received that the area status has taken into account: the
    worker's next pass reads from a little before it (a position may commit late)."""

    name = models.CharField(max_length=32, unique=True)
    received_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} {self.received_until:%Y-%m-%d %H:%M:%S}"


class SnowOperations(models.Model):
    """The staff switch "snow operations active": while on, each plowed area has a live snow
    notice; switched off (the snowfall or the season ended), those notices end."""

    active = models.BooleanField(_("snow operations active"), default=False)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)
    changed_by = models.EmailField(_("changed by"), blank=True)

    class Meta:
        verbose_name = _("snow operations")
        verbose_name_plural = _("snow operations")

    def __str__(self) -> str:
        return "on" if self.active else "off"

    @classmethod
    def current(cls) -> SnowOperations:
        operations, _created = cls.objects.get_or_create(pk=1)
        return operations
