"""Feed sources, their runs, and the table mapping a source's area codes to portal areas.

A source is polled by beat on the ``ingest`` queue (portal/feeds/tasks.py); each poll, and each
``ingest_*`` command, leaves a ``Run`` that staff read at /staff/feeds/.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Area

# After this many failed polls in a row a source is flagged on the staff page.
FLAG_AFTER_FAILURES = 3


class Kind(models.TextChoices):
    JMA = "jma", _("JMA 防災情報XML (Atom feed or document)")
    CAP = "cap", _("CAP 1.2 or 1.1 alert")
    RSS = "rss", _("RSS/Atom news feed")


class Source(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    url = models.URLField(_("URL"), max_length=500, unique=True)
    interval = models.DurationField(
        _("polling interval"),
        default=timedelta(minutes=5),
        validators=[MinValueValidator(timedelta(minutes=1))],
        help_text=_("How often beat fetches it (at least a minute), e.g. 00:05:00."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # The areas whose documents it brings; none means every area of the mapping table.
    areas = models.ManyToManyField(
        Area,
        verbose_name=_("areas it serves"),
        blank=True,
        related_name="+",
        help_text=_("Documents about other areas are skipped; leave empty for all."),
    )
    # Publishers of this department see and may withdraw what the source brings.
    department = models.ForeignKey(
        "notices.Department",
        verbose_name=_("department"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    # Conditional GET: what the server said last time.
    etag = models.CharField(max_length=500, blank=True, editable=False)
    last_modified = models.CharField(max_length=100, blank=True, editable=False)
    next_poll_at = models.DateTimeField(_("next poll"), default=timezone.now, db_index=True)
    # Set while a poll runs, so that no second poll of the source starts before it ends (or
    # before the lease runs out, should its worker die).
    polling_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("feed source")
        verbose_name_plural = _("feed sources")
        ordering = ["name"]
        permissions = [("poll_source", "Can poll a feed source now")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # What the old address said it last sent means nothing at a new one: without this, the
        # new address could answer "not modified" and its document never be read.
        if self.pk is not None:
            earlier = Source.objects.filter(pk=self.pk).values_list("url", flat=True).first()
            if earlier is not None and earlier != self.url:
                self.etag = self.last_modified = ""
                update_fields = kwargs.get("update_fields")
                if update_fields is not None:
                    kwargs["update_fields"] = {*update_fields, "etag", "last_modified"}
        super().save(*args, **kwargs)

    @property
    def interval_minutes(self) -> int:
        return max(1, round(self.interval.total_seconds() / 60))

    @property
    def is_failing(self) -> bool:
        return self.consecutive_failures >= FLAG_AFTER_FAILURES


class Run(models.Model):
    """One poll of a source, or one ``ingest_*`` command: what it fetched and what came of it."""

    class Origin(models.TextChoices):
        BEAT = "beat", _("beat")
        COMMAND = "command", _("command line")
        STAFF = "staff", _("staff (poll now)")

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        OK = "ok", _("ok")
        NOT_MODIFIED = "not_modified", _("not modified")
        PARTIAL = "partial", _("partly refused")
        SKIPPED = "skipped", _("not for this portal")
        REFUSED = "refused", _("refused")
        FAILED = "failed", _("failed")

    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, null=True, blank=True, related_name="runs"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    origin = models.CharField(_("origin"), max_length=8, choices=Origin.choices)
    location = models.CharField(_("URL or file"), max_length=500)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    fetched = models.PositiveIntegerField(_("documents fetched"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    superseded = models.PositiveIntegerField(_("ended"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    # Well formed but not for this portal (another region, a type it does not take).
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    # [{"reference": ..., "reason": ...}], what was refused and why; and notes on the rest.
    problems = models.JSONField(_("problems"), default=list, blank=True)
    notes = models.JSONField(_("notes"), default=list, blank=True)

    class Meta:
        verbose_name = _("feed run")
        verbose_name_plural = _("feed runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["source", "-started_at"], name="run_source_recent_idx")]

    def __str__(self) -> str:
        return f"{self.location} {self.started_at:%Y-%m-%d %H:%M}"

    def counts(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in (
                "fetched",
                "created",
                "updated",
                "superseded",
                "unchanged",
                "skipped",
                "rejected",
            )
        }


class FetchedDocument(models.Model):
    """A document a JMA Atom feed pointed to and that was fetched: not fetched again."""

    url = models.CharField(max_length=500, unique=True)
    fetched_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("fetched document")
        verbose_name_plural = _("fetched documents")

    def __str__(self) -> str:
        return self.url


class AreaCode(models.Model):
    """A code a source uses for a place, and the portal areas it means: JMA's ``0720200``
    (会津若松市) or ``070032`` (会津中部), a CAP geocode such as ``cap:JIS 07202``.

    The city edits this table in the admin; ``manage.py load_feed_area_codes`` fills it for the
    municipalities the portal knows."""

    scheme = models.CharField(
        _("scheme"), max_length=64, help_text=_('"jma", or "cap:" and a CAP geocode valueName.')
    )
    code = models.CharField(_("code"), max_length=64)
    name = models.CharField(_("name at the source"), max_length=200, blank=True)
    areas = models.ManyToManyField(Area, verbose_name=_("portal areas"), related_name="+")

    class Meta:
        verbose_name = _("area code")
        verbose_name_plural = _("area codes")
        ordering = ["scheme", "code"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="one_mapping_per_area_code")
        ]

    def __str__(self) -> str:
        return f"{self.scheme} {self.code} {self.name}".strip()
