"""Consent catalogue, versioned terms, the append-only hash-chained ledger and its state.

The ledger (`ConsentEvent`) is the record of truth; `ConsentState` is the current state per
(resident, purpose, category) derived from it, kept in the same transaction for fast reads.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from consent.catalogue import Category, PurposeCode, RecipientCode, categories_in


class LocalisedTextMixin(models.Model):
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_ja = models.TextField(_("description (Japanese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" else self.name_ja

    @property
    def description(self) -> str:
        return self.description_en if get_language() == "en" else self.description_ja


class DataCategory(LocalisedTextMixin):
    code = models.CharField(_("code"), max_length=32, unique=True, choices=Category.choices)
    dpv_term = models.CharField(_("DPV term"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("data category")
        verbose_name_plural = _("data categories")
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name


class Purpose(LocalisedTextMixin):
    code = models.CharField(_("code"), max_length=32, unique=True, choices=PurposeCode.choices)
    dpv_term = models.CharField(_("DPV term"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name


class Recipient(LocalisedTextMixin):
    class Role(models.TextChoices):
        CONTROLLER = "controller", _("controller")
        PROCESSOR = "processor", _("processor")
        THIRD_PARTY = "third_party", _("third party")

    code = models.CharField(_("code"), max_length=64, unique=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    dpv_term = models.CharField(_("DPV term"), max_length=100)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ImmutableQuerySet(models.QuerySet[Any]):
    """Bulk UPDATE and DELETE are refused: some rows are records that must never change."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise ImmutableRecordError(f"{self.model.__name__} rows cannot be updated")

    def delete(self) -> NoReturn:
        raise ImmutableRecordError(f"{self.model.__name__} rows cannot be deleted")


class ImmutableRecordError(Exception):
    pass


class ConsentTerms(models.Model):
    """One published version of the terms a resident agrees to for one purpose.

    Identified by the SHA-256 of its content. A version that ``requires_reconsent`` makes
    every consent given to an earlier version unusable until the resident agrees again.
    """

    purpose = models.ForeignKey(
        Purpose, verbose_name=_("purpose"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"))
    category_codes = models.JSONField(_("data categories"))
    recipient_codes = models.JSONField(_("recipients"))
    text_ja = models.TextField(_("text (Japanese)"))
    text_en = models.TextField(_("text (English)"))
    retention_days = models.PositiveIntegerField(
        _("retention (days)"),
        help_text=_("How long the data is kept after the consent ends, at most."),
    )
    valid_days = models.PositiveIntegerField(
        _("consent valid for (days)"),
        null=True,
        blank=True,
        help_text=_("Consents expire after this many days; empty: until withdrawn."),
    )
    withdrawal_method_ja = models.TextField(_("how to withdraw (Japanese)"))
    withdrawal_method_en = models.TextField(_("how to withdraw (English)"))
    requires_reconsent = models.BooleanField(_("requires re-consent"), default=True)
    content_hash = models.CharField(_("content hash"), max_length=64, unique=True)
    published_at = models.DateTimeField(_("published at"))

    objects: ClassVar[models.Manager[ConsentTerms]] = ImmutableQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent terms")
        verbose_name_plural = _("consent terms")
        ordering = ["purpose", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "version"], name="terms_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableRecordError("published consent terms cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableRecordError("published consent terms cannot be deleted")

    def hashed_content(self) -> dict[str, object]:
        """Everything the content hash covers: all but the hash and the publication time."""
        return {
            "requires_reconsent": self.requires_reconsent,
            "purpose": self.purpose.code,
            "version": self.version,
            "categories": sorted(self.category_codes),
            "recipients": sorted(self.recipient_codes),
            "text_ja": self.text_ja,
            "text_en": self.text_en,
            "retention_days": self.retention_days,
            "valid_days": self.valid_days,
            "withdrawal_method_ja": self.withdrawal_method_ja,
            "withdrawal_method_en": self.withdrawal_method_en,
        }

    @property
    def text(self) -> str:
        return self.text_en if get_language() == "en" else self.text_ja

    @property
    def withdrawal_method(self) -> str:
        return self.withdrawal_method_en if get_language() == "en" else self.withdrawal_method_ja


class EventKind(models.TextChoices):
    GRANT = "grant", _("granted")
    REFUSE = "refuse", _("refused")
    WITHDRAW = "withdraw", _("withdrawn")
    EXPIRE = "expire", _("expired")


class Channel(models.TextChoices):
    WEB = "web", _("web")
    COUNTER = "counter", _("city counter (paper form)")
    API = "api", _("API")
    SYSTEM = "system", _("system")


class ActorKind(models.TextChoices):
    RESIDENT = "resident", _("the resident")
    STAFF = "staff", _("a staff member")
    SYSTEM = "system", _("the system")


class ConsentEvent(models.Model):
    """One entry of the append-only consent ledger, chained to the one before by its hash and
    signed with a key the database does not hold.

    It names the resident only by pseudonym, so erasing an account never touches the ledger.
    UPDATE and DELETE are refused here and, by triggers, in the database.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("event"), max_length=8, choices=EventKind.choices)
    subject_pseudonym = models.UUIDField(_("resident (pseudonym)"), db_index=True)
    terms = models.ForeignKey(ConsentTerms, on_delete=models.PROTECT, related_name="+")
    purpose_code = models.CharField(_("purpose"), max_length=32)
    category_codes = models.JSONField(_("data categories"))
    recipient_codes = models.JSONField(_("recipients"))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    actor_kind = models.CharField(_("recorded by"), max_length=8, choices=ActorKind.choices)
    actor_pseudonym = models.UUIDField(_("recorded by (pseudonym)"), null=True, blank=True)
    paper_form_reference = models.CharField(_("paper form reference"), max_length=64, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # HMAC-SHA256 of ``hash`` under settings.LEDGER_SIGNING_KEY (consent/signing.py). Blank
    # only on events older than migration 0008, which signs them; the verifier reports a blank.
    signature = models.CharField(_("signature"), max_length=64, blank=True)

    objects: ClassVar[models.Manager[ConsentEvent]] = ImmutableQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        ordering = ["id"]
        permissions = [
            ("record_counter_consent", _("Can record a resident's paper consent at the counter")),
            # Counts of residents only, small ones hidden: never a resident's own data.
            ("view_consent_reports", _("Can read the consent reports")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.purpose_code} #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableRecordError("consent ledger events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableRecordError("consent ledger events cannot be deleted")


class LedgerHead(models.Model):
    """The newest hash of the ledger; locking this row serialises appends to the chain."""

    singleton = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    event_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(singleton=1), name="ledger_head_singleton")
        ]

    def __str__(self) -> str:
        return self.last_hash


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("granted")
    REFUSED = "refused", _("refused")
    WITHDRAWN = "withdrawn", _("withdrawn")
    EXPIRED = "expired", _("expired")


# Where a (resident, purpose, category) stands after each kind of ledger event.
STATUS_AFTER_EVENT: dict[str, str] = {
    EventKind.GRANT: ConsentStatus.GRANTED,
    EventKind.REFUSE: ConsentStatus.REFUSED,
    EventKind.WITHDRAW: ConsentStatus.WITHDRAWN,
    EventKind.EXPIRE: ConsentStatus.EXPIRED,
}


class ConsentState(models.Model):
    """Where (resident, purpose, category) stands now, as the ledger's last event says."""

    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(DataCategory, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    terms = models.ForeignKey(ConsentTerms, on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(ConsentEvent, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "purpose", "category"], name="consent_state_unique"
            ),
        ]
        indexes = [models.Index(fields=["purpose", "status", "resident"])]

    def __str__(self) -> str:
        return f"{self.status} #{self.pk}"


class ReaderKind(models.TextChoices):
    VIEW = "view", _("a page of the portal")
    TASK = "task", _("a background task")
    STAFF = "staff", _("a staff member")


class DataUseEvent(models.Model):
    """How often one reader read a resident's data for one purpose on one day, through
    consent.policy; shown to that resident.

    One row per (resident, purpose, recipient, reader, day), counted up as reads come in: a
    nightly rescore of every resident adds one to each resident's row instead of writing a row
    per read, so the log grows with residents and readers, not with reads.
    """

    # No index of its own: the unique key below starts with the resident.
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    purpose_code = models.CharField(_("purpose"), max_length=32)
    recipient_code = models.CharField(_("on behalf of"), max_length=64)
    reader_kind = models.CharField(_("reader"), max_length=8, choices=ReaderKind.choices)
    reader_name = models.CharField(_("reader name"), max_length=100)
    # Not a foreign key: the row keeps saying which staff account read even after that account
    # is deleted, and a NULL would never match itself in the unique key. 0: not a staff member.
    staff_account_id = models.PositiveIntegerField(_("staff account"), default=0)
    day = models.DateField(_("day"))
    # The categories read that day, as consent.catalogue.CATEGORY_BITS: reads are merged with OR.
    category_mask = models.PositiveIntegerField(_("data categories"))
    use_count = models.PositiveIntegerField(_("uses"))
    first_at = models.DateTimeField(_("first use"))
    last_at = models.DateTimeField(_("last use"))

    class Meta:
        verbose_name = _("data use")
        verbose_name_plural = _("data uses")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "resident",
                    "purpose_code",
                    "recipient_code",
                    "reader_kind",
                    "reader_name",
                    "staff_account_id",
                    "day",
                ],
                name="data_use_one_row_per_reader_and_day",
            ),
            models.CheckConstraint(
                condition=models.Q(use_count__gte=1), name="data_use_counts_at_least_one"
            ),
        ]
        # Pruning goes by day; a resident's own rows are found through the unique key.
        indexes = [models.Index(fields=["day"], name="data_use_day")]

    def __str__(self) -> str:
        return f"{self.purpose_code} {self.day} ×{self.use_count}"

    @property
    def category_codes(self) -> list[str]:
        """The codes of the categories read, sorted."""
        return sorted(categories_in(self.category_mask))


__all__ = ["Category", "PurposeCode", "RecipientCode"]


# ---------------------------------------------------------------------------------------------
# The register of paper consent forms used at the city counter
# ---------------------------------------------------------------------------------------------


class PaperFormBatch(models.Model):
    """A numbered batch of paper-form references, issued by a consent officer to a counter.

    The references are printed on blank forms; a counter consent needs one of them, unused.
    """

    number = models.PositiveIntegerField(_("batch number"), unique=True)
    first_serial = models.PositiveIntegerField(_("first serial"))
    last_serial = models.PositiveIntegerField(_("last serial"))
    issued_to = models.CharField(_("issued to (counter or office)"), max_length=200)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Kept when the staff account is deleted: the register must still say who did what.
    issued_by_email = models.EmailField(blank=True)

    class Meta:
        verbose_name = _("paper form batch")
        verbose_name_plural = _("paper form batches")
        ordering = ["-number"]
        permissions = [
            ("manage_paper_forms", _("Can issue and void paper consent forms and answer disputes"))
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_serial__gte=models.F("first_serial")),
                name="paper_form_batch_serials_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.number}"


class PaperFormStatus(models.TextChoices):
    ISSUED = "issued", _("issued, not used yet")
    USED = "used", _("used")
    VOIDED = "voided", _("voided")


class CounterAction(models.TextChoices):
    GRANT = "grant", _("give consent")
    WITHDRAW = "withdraw", _("withdraw consent")


class PaperForm(models.Model):
    """One reference of the register: issued once, used at most once, or voided."""

    reference = models.CharField(_("reference"), max_length=32, unique=True)
    serial = models.PositiveIntegerField(_("serial"), unique=True)
    batch = models.ForeignKey(PaperFormBatch, on_delete=models.PROTECT, related_name="forms")
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=PaperFormStatus.choices,
        default=PaperFormStatus.ISSUED,
    )
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    used_by_email = models.EmailField(blank=True)
    # What the form asked for, and for whom: a pseudonym, or nobody when no verified resident
    # account used the address written on it (the address itself is not kept).
    action = models.CharField(
        _("asked for"), max_length=8, choices=CounterAction.choices, blank=True
    )
    purpose_code = models.CharField(_("purpose"), max_length=32, blank=True)
    category_codes = models.JSONField(_("data categories"), default=list, blank=True)
    subject_pseudonym = models.UUIDField(_("resident (pseudonym)"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("why voided"), max_length=200, blank=True)
    # A withdrawal typed in at the counter stops every use at once, but the data it leaves
    # uncovered is erased only when the resident has had time to dispute it: one clerk with
    # one form must not be able to destroy a resident's data for good.
    erasure_held_until = models.DateTimeField(null=True, blank=True)
    erasure_released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("paper consent form")
        verbose_name_plural = _("paper consent forms")
        ordering = ["serial"]
        indexes = [models.Index(fields=["subject_pseudonym"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def matched(self) -> bool:
        return self.subject_pseudonym is not None


class CounterDispute(models.Model):
    """A resident saying a paper form recorded in their name is not theirs, or is wrong."""

    paper_form = models.OneToOneField(PaperForm, on_delete=models.PROTECT, related_name="dispute")
    opened_at = models.DateTimeField(_("opened at"))
    reason = models.TextField(_("what is wrong"), max_length=2000)
    # What the dispute undid at once: the categories a disputed grant gave stop counting, the
    # categories a disputed withdrawal ended are given again (the resident says so by disputing).
    withdrawn_category_codes = models.JSONField(default=list, blank=True)
    restored_category_codes = models.JSONField(default=list, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    resolved_by_email = models.EmailField(blank=True)
    resolution = models.TextField(_("resolution"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("counter consent dispute")
        verbose_name_plural = _("counter consent disputes")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.paper_form} ({self.opened_at:%Y-%m-%d})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class LedgerVerification(models.Model):
    """One run of the ledger's verification (the nightly task or ``consent_verify_ledger``):
    the consent reports show the latest as the ledger's status."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    # The hash chain and every event's signature hold.
    chain_intact = models.BooleanField(_("chain intact"))
    # ... and the consent states are what replaying the ledger gives.
    intact = models.BooleanField(_("intact"))
    events_verified = models.PositiveBigIntegerField(_("events verified"))
    # The hash of the last event verified: the head, when the ledger is intact.
    head_hash = models.CharField(_("head hash"), max_length=64)
    accounts_checked = models.PositiveIntegerField(_("accounts whose states were checked"))
    problem = models.TextField(_("problem"), blank=True)  # the first one found; empty if intact
    # The weekly tallies equal a replay of the ledger (None: runs before they existed).
    tallies_intact = models.BooleanField(_("weekly tallies intact"), null=True)

    class Meta:
        verbose_name = _("ledger verification")
        verbose_name_plural = _("ledger verifications")
        get_latest_by = "finished_at"
        indexes = [models.Index(fields=["-finished_at"], name="ledger_verification_latest")]

    def __str__(self) -> str:
        return f"{self.finished_at:%Y-%m-%d %H:%M} {'intact' if self.intact else 'NOT intact'}"


class ConsentTally(models.Model):
    """How many ledger events of each kind one week saw for one (purpose, category), and how
    many consents became active or stopped being active: the weekly trends of the consent
    reports, without reading a million events per page.

    Kept by ``consent.services`` in the transaction that appends each event (so under the ledger
    head's lock); checked against a replay of the ledger by every verification run and rebuilt
    from it by ``consent_rebuild_tallies`` (``consent.reports.tallies``).
    """

    week = models.DateField(_("week (Monday)"))
    purpose_code = models.CharField(_("purpose"), max_length=32)
    category_code = models.CharField(_("data category"), max_length=32)
    granted = models.PositiveIntegerField(_("grants"), default=0)
    refused = models.PositiveIntegerField(_("refusals"), default=0)
    withdrawn = models.PositiveIntegerField(_("withdrawals"), default=0)
    expired = models.PositiveIntegerField(_("expiries"), default=0)
    # Consents that turned active (from none, refused, withdrawn or expired) or stopped being
    # active this week; a grant of new terms over an active consent is neither.
    became_active = models.PositiveIntegerField(_("became active"), default=0)
    stopped_active = models.PositiveIntegerField(_("stopped being active"), default=0)

    class Meta:
        verbose_name = _("weekly consent tally")
        verbose_name_plural = _("weekly consent tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["purpose_code", "category_code", "week"], name="consent_tally_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.purpose_code} {self.category_code}"


class PlanningStatisticsRun(models.Model):
    """One count of the residents who let the city use their home area and age band for
    anonymous statistics, read through the consent gate under that purpose (nightly, or by
    ``consent_planning_statistics``): the reports' breakdowns by area and age and the coverage
    of warnings come from the latest finished run, never from a resident's data on a page."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Counted without any attribute, at the time of the run: the totals of every breakdown.
    registered = models.PositiveIntegerField(_("registered residents"), default=0)
    # "purpose/category" -> residents with an active consent to it.
    consenting = models.JSONField(_("residents consenting"), default=dict)
    residents_read = models.PositiveIntegerField(_("residents read"), default=0)
    # How each count of the run's breakdowns that may not be shown is hidden ("<10" or "×"), by
    # the count's key (consent.reports.breakdowns): decided for all of the run's tables
    # together, once, so that no two of them give a count away. Null until then.
    hidden = models.JSONField(_("hidden counts"), null=True, blank=True)

    class Meta:
        verbose_name = _("planning statistics run")
        verbose_name_plural = _("planning statistics runs")
        get_latest_by = "finished_at"

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"


class PlanningStatisticsCount(models.Model):
    """How many residents read by a run live in one area (the lowest one their home is in) and
    are in one age band (blank: not shared for statistics) and, where a purpose is named, have
    an active consent to it covering the category. Blank purpose: all residents read there."""

    run = models.ForeignKey(PlanningStatisticsRun, on_delete=models.CASCADE, related_name="counts")
    # Null: the resident did not share their places for statistics (or has no home place).
    area = models.ForeignKey(
        "portal.Area", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    age_band = models.CharField(_("age band"), max_length=8, blank=True)
    purpose_code = models.CharField(_("purpose"), max_length=32, blank=True)
    category_code = models.CharField(_("data category"), max_length=32, blank=True)
    residents = models.PositiveIntegerField(_("residents"))

    class Meta:
        verbose_name = _("planning statistics count")
        verbose_name_plural = _("planning statistics counts")
        # A page reads one run's rows of one purpose and category (and the blank ones). Each
        # (area, age band, purpose, category) is written once per run by one Counter.
        indexes = [
            models.Index(
                fields=["run", "purpose_code", "category_code"], name="planning_count_of_run"
            )
        ]

    def __str__(self) -> str:
        return f"{self.area_id} {self.age_band} {self.purpose_code}: {self.residents}"


class DataUseCheck(models.Model):
    """The outcome of checking one day of the data-use log against the consent ledger
    (``consent.reports.data_use_check``): every logged read must lie within an active consent."""

    day = models.DateField(_("day"), unique=True)
    checked_at = models.DateTimeField(_("checked at"))
    rows_checked = models.PositiveIntegerField(_("log rows checked"))
    # The first and the last read of each row, for each category read.
    moments_checked = models.PositiveIntegerField(_("reads checked"))
    outside_consent = models.PositiveIntegerField(_("reads outside an active consent"))
    problems = models.TextField(_("problems"), blank=True)  # the first 20, one per line

    class Meta:
        verbose_name = _("data-use check")
        verbose_name_plural = _("data-use checks")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.outside_consent} outside consent"


class ReportSnapshot(models.Model):
    """Counts a consent report keeps rather than counting them again on every page: the
    overview's (refreshed every few minutes by beat) and each past day's data use (a day's log
    no longer changes once it has ended). Counts only, never a resident."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    computed_at = models.DateTimeField(_("computed at"))
    data = models.JSONField(_("counts"))

    class Meta:
        verbose_name = _("report snapshot")
        verbose_name_plural = _("report snapshots")

    def __str__(self) -> str:
        return f"{self.name} ({self.computed_at:%Y-%m-%d %H:%M})"
