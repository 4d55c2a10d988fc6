"""What the recommender keeps: model versions, each resident's stored feed with its reasons, and
anonymous counts of what residents did with each notice."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ModelVersion(models.Model):
    """One trained ranker: its weights over the scorer's features, the text model, the window of
    interactions it learned from and its offline figures on held-out interactions. At most one
    is active; a new one is promoted only if it beats the active one on the same held-out data.
    """

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    trained_from = models.DateTimeField(_("interactions from"), null=True, blank=True)
    trained_to = models.DateTimeField(_("interactions to"), null=True, blank=True)
    features = models.JSONField(_("features"), default=list)
    weights = models.JSONField(_("weights"), default=dict)
    bias = models.FloatField(_("bias"), default=0.0)
    # The pickled recommendations.text.TextModel: written and read only by the worker.
    text_model = models.BinaryField(_("text model"), blank=True, default=b"")
    training_pairs = models.PositiveIntegerField(_("training pairs"), default=0)
    metrics = models.JSONField(_("offline metrics"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    promoted_at = models.DateTimeField(_("promoted at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_model"
            )
        ]

    def __str__(self) -> str:
        return f"model #{self.pk}"


# Entries kept per resident ("more" pages through them).
FEED_SIZE = 20


class StoredFeed(models.Model):
    """A resident's ranked notices with their scores and structured reasons, as one row.

    One row per resident, not per notice: a city's rescore writes 120,000 rows instead of 2.4
    million, and the home page reads one. ``entries`` holds parallel lists, best first:
    ``notice`` ids, ``score``, ``reasons`` (recommendations.scoring.REASON_BITS) and what the
    reasons point at — ``area``, ``interest`` (tag id) and ``school`` ids, 0 for nothing.

    Derived from data read through the consent gate: rescored when the resident's consent
    narrows, deleted with their account (Django cascades; no database foreign key, so that a
    range's rows go in by COPY without a check per row at commit).
    """

    resident = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        db_constraint=False,
    )
    entries = models.JSONField(_("entries"), default=dict)
    # The lowest score in the feed: a new notice scoring above it enters (fan-out).
    cutoff = models.FloatField(_("lowest score"), default=0.0)
    # The ModelVersion that ranked it; 0 for the prior (no model trained yet).
    model_version_id = models.IntegerField(_("model version"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("stored feed")
        verbose_name_plural = _("stored feeds")

    def __str__(self) -> str:
        return f"feed of {self.resident_id}"


class FeedAddition(models.Model):
    """A notice that a fan-out put into a resident's feed after the feed was computed.

    A published notice is scored against every resident at once, but rewriting 100,000 stored
    feeds to slip one entry into each is the slow part of a fan-out; instead each entry is one
    narrow row (COPY on PostgreSQL), and the feed's reader places it among the stored entries by
    its score. The next rescore of the resident, which ranks the notice itself, deletes it.
    Derived from data read through the consent gate, like the feed.
    """

    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    notice_id = models.IntegerField(_("notice"))
    score = models.FloatField(_("score"))
    reasons = models.BigIntegerField(_("reasons"))
    reason_area_id = models.IntegerField(default=0)
    reason_interest_id = models.IntegerField(default=0)
    reason_school_id = models.IntegerField(default=0)
    model_version_id = models.IntegerField(_("model version"), default=0)
    added_at = models.DateTimeField(_("added at"))

    class Meta:
        verbose_name = _("feed addition")
        verbose_name_plural = _("feed additions")
        indexes = [models.Index(fields=["notice_id", "resident"], name="feed_addition_by_notice")]

    def __str__(self) -> str:
        return f"notice {self.notice_id} for {self.resident_id}"


class NoticeEngagement(models.Model):
    """How often a notice was shown, opened, saved and set aside, by anyone: no resident in it.
    Kept whatever residents share; popularity is read from it."""

    notice = models.OneToOneField(
        "notices.Notice", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    shown = models.PositiveIntegerField(_("shown"), default=0)
    opened = models.PositiveIntegerField(_("opened"), default=0)
    saved = models.PositiveIntegerField(_("saved"), default=0)
    dismissed = models.PositiveIntegerField(_("set aside"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notice engagement")
        verbose_name_plural = _("notice engagement")

    def __str__(self) -> str:
        return f"engagement of notice {self.notice_id}"
