"""Writes of the consent app: publishing terms, and granting, refusing, withdrawing and
expiring consent. Every change appends to the ledger and updates the state in one transaction.
Also the pruning of the data-use log, and the register of paper consent forms used at the
city counter (issuing, voiding, using, disputes), each staff action in the staff audit log.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent.catalogue import Category
from consent.ledger import append_event, content_hash, verify_chain, verify_states
from consent.models import (
    STATUS_AFTER_EVENT,
    ActorKind,
    Channel,
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    ConsentTerms,
    CounterAction,
    CounterDispute,
    DataCategory,
    DataUseEvent,
    EventKind,
    LedgerVerification,
    PaperForm,
    PaperFormBatch,
    PaperFormStatus,
    Purpose,
    Recipient,
)
from consent.references import format_reference, parse_reference
from consent.reports.tallies import tallies_problem, tally_event
from consent.selectors import active_purposes_by_category, covered_categories, usable_terms_ids
from consent.signals import categories_uncovered, consent_narrowed, consent_widened
from portal.models import StaffAuditEntry

if TYPE_CHECKING:
    from portal.models import User


class ConsentError(ValueError):
    """A consent request that cannot be carried out; nothing was changed."""


@dataclass(frozen=True)
class Actor:
    """Who records a consent: the resident on the web, or a staff member at the counter."""

    kind: str
    user: User
    channel: str
    paper_form_reference: str = ""

    @classmethod
    def resident(cls, user: User, *, channel: str = Channel.WEB) -> Actor:
        return cls(kind=ActorKind.RESIDENT, user=user, channel=channel)

    @classmethod
    def staff(cls, staff: User) -> Actor:
        """A staff member acting in the web console (e.g. closing an account in the admin)."""
        return cls(kind=ActorKind.STAFF, user=staff, channel=Channel.WEB)

    @classmethod
    def counter_staff(cls, staff: User, *, paper_form_reference: str) -> Actor:
        reference = paper_form_reference.strip()
        if not reference:
            raise ConsentError(
                _("A consent recorded at the counter needs the paper form's reference.")
            )
        return cls(
            kind=ActorKind.STAFF,
            user=staff,
            channel=Channel.COUNTER,
            paper_form_reference=reference,
        )


MATERIAL_FIELDS = {
    "category_codes": gettext_lazy("the data categories"),
    "recipient_codes": gettext_lazy("the recipients"),
    "retention_days": gettext_lazy("the retention period"),
    "valid_days": gettext_lazy("how long a consent is valid"),
}


def terms_check(
    *,
    purpose_code: str,
    category_codes: Collection[str],
    recipient_codes: Collection[str],
    text_ja: str,
    text_en: str,
    retention_days: int,
    valid_days: int | None,
    requires_reconsent: bool,
) -> None:
    """Raise ConsentError if these terms cannot be published as the purpose's next version.

    A version that does not require re-consent may only change wording: a change to the
    categories, recipients, retention or validity always requires re-consent.
    """
    if not Purpose.objects.filter(code=purpose_code).exists():
        raise ConsentError(_("Unknown purpose: %(code)s") % {"code": purpose_code})
    _check_known(DataCategory, category_codes, _("Unknown data category: %(code)s"))
    _check_known(Recipient, recipient_codes, _("Unknown recipient: %(code)s"))
    if not category_codes or not recipient_codes:
        raise ConsentError(_("Terms must name at least one data category and one recipient."))
    if not text_ja.strip() or not text_en.strip():
        raise ConsentError(_("Terms need their text in Japanese and in English."))
    if valid_days is not None and valid_days < 1:
        raise ConsentError(_("A consent must be valid for at least one day (or until withdrawn)."))
    previous = ConsentTerms.objects.filter(purpose__code=purpose_code).order_by("-version").first()
    if previous is None or requires_reconsent:
        return
    new_values = _material_values(category_codes, recipient_codes, retention_days, valid_days)
    changed = [
        str(label)
        for name, label in MATERIAL_FIELDS.items()
        if _normalised(getattr(previous, name)) != _normalised(new_values[name])
    ]
    if changed:
        raise ConsentError(
            _("Changing %(fields)s is a material change: it requires re-consent.")
            % {"fields": ", ".join(changed)}
        )


@transaction.atomic
def terms_publish(
    *,
    purpose_code: str,
    category_codes: Collection[str],
    recipient_codes: Collection[str],
    text_ja: str,
    text_en: str,
    retention_days: int,
    valid_days: int | None,
    withdrawal_method_ja: str,
    withdrawal_method_en: str,
    requires_reconsent: bool = True,
) -> ConsentTerms:
    """Publish the next version of a purpose's terms (see terms_check for the rules)."""
    purpose = Purpose.objects.select_for_update().filter(code=purpose_code).first()
    terms_check(
        purpose_code=purpose_code,
        category_codes=category_codes,
        recipient_codes=recipient_codes,
        text_ja=text_ja,
        text_en=text_en,
        retention_days=retention_days,
        valid_days=valid_days,
        requires_reconsent=requires_reconsent,
    )
    assert purpose is not None
    previous = ConsentTerms.objects.filter(purpose=purpose).order_by("-version").first()
    version = previous.version + 1 if previous else 1
    terms = ConsentTerms(
        purpose=purpose,
        version=version,
        category_codes=sorted(category_codes),
        recipient_codes=sorted(recipient_codes),
        text_ja=text_ja,
        text_en=text_en,
        retention_days=retention_days,
        valid_days=valid_days,
        withdrawal_method_ja=withdrawal_method_ja,
        withdrawal_method_en=withdrawal_method_en,
        requires_reconsent=requires_reconsent or previous is None,
        published_at=timezone.now(),
    )
    terms.content_hash = content_hash(terms.hashed_content())
    terms.save()
    return terms


def _material_values(
    category_codes: Collection[str],
    recipient_codes: Collection[str],
    retention_days: int,
    valid_days: int | None,
) -> dict[str, object]:
    return {
        "category_codes": sorted(category_codes),
        "recipient_codes": sorted(recipient_codes),
        "retention_days": retention_days,
        "valid_days": valid_days,
    }


@transaction.atomic
def consent_grant(
    *, resident: User, terms_id: int, category_codes: Collection[str], actor: Actor
) -> ConsentEvent:
    """Record that the resident agrees to ``terms`` for these categories."""
    _lock_resident(resident)
    terms = _current_terms_for_decision(terms_id)
    codes = _validated_categories(terms, category_codes)
    return _record(resident=resident, terms=terms, codes=codes, kind=EventKind.GRANT, actor=actor)


@transaction.atomic
def consent_refuse(
    *, resident: User, terms_id: int, category_codes: Collection[str], actor: Actor
) -> ConsentEvent | None:
    """Record that the resident was asked and said no. Ends any earlier consent for them.

    A "no" already on record for these terms is not recorded again (None when nothing is new):
    saying no twice changes nothing, and the ledger shows each decision once.
    """
    _lock_resident(resident)
    terms = _current_terms_for_decision(terms_id)
    codes = _validated_categories(terms, category_codes)
    already = set(
        ConsentState.objects.filter(
            resident=resident,
            terms=terms,
            category__code__in=codes,
            status=ConsentStatus.REFUSED,
        ).values_list("category__code", flat=True)
    )
    codes = [code for code in codes if code not in already]
    if not codes:
        return None
    lost = set(
        ConsentState.objects.filter(
            resident=resident,
            purpose_id=terms.purpose_id,
            category__code__in=codes,
            status=ConsentStatus.GRANTED,
        ).values_list("category__code", flat=True)
    )
    event = _record(resident=resident, terms=terms, codes=codes, kind=EventKind.REFUSE, actor=actor)
    _narrowed(resident_id=resident.pk, purpose_code=terms.purpose.code, categories=lost)
    _erase_uncovered(resident_id=resident.pk)
    return event


@dataclass(frozen=True)
class WithdrawalOutcome:
    """What a withdrawal did, so the resident can be told exactly."""

    events: list[ConsentEvent] = field(default_factory=list)
    withdrawn: list[tuple[str, str]] = field(default_factory=list)  # (purpose, category)
    erased: frozenset[str] = frozenset()
    kept: dict[str, list[str]] = field(default_factory=dict)  # category -> purposes still using


@transaction.atomic
def consent_withdraw(
    *,
    resident: User,
    actor: Actor,
    purpose_code: str | None = None,
    category_code: str | None = None,
) -> WithdrawalOutcome:
    """Withdraw every active consent of a purpose, of a category, or of both together.

    The attributes of categories no longer covered by any consent are erased at once.
    """
    if purpose_code is None and category_code is None:
        raise ConsentError(_("Say which purpose or category to withdraw."))
    if purpose_code is not None and not Purpose.objects.filter(code=purpose_code).exists():
        raise ConsentError(_("Unknown purpose: %(code)s") % {"code": purpose_code})
    if category_code is not None and category_code not in Category.values:
        raise ConsentError(_("Unknown data category: %(code)s") % {"code": category_code})

    _lock_resident(resident)
    states = ConsentState.objects.filter(resident=resident, status=ConsentStatus.GRANTED)
    if purpose_code is not None:
        states = states.filter(purpose__code=purpose_code)
    if category_code is not None:
        states = states.filter(category__code=category_code)
    return _end_states(
        resident=resident, states=list(states.select_related("terms__purpose", "category")),
        kind=EventKind.WITHDRAW, actor=actor,
    )  # fmt: skip


@transaction.atomic
def consents_withdraw_all(*, resident: User, actor: Actor) -> WithdrawalOutcome:
    """Withdraw everything (before an account is deleted)."""
    _lock_resident(resident)
    states = ConsentState.objects.filter(resident=resident, status=ConsentStatus.GRANTED)
    return _end_states(
        resident=resident,
        states=list(states.select_related("terms__purpose", "category")),
        kind=EventKind.WITHDRAW,
        actor=actor,
    )


def consents_expire(*, now: datetime | None = None) -> int:
    """Append an expiry event for every consent that lapsed; returns how many.

    A consent lapses when its validity runs out, or when its terms were replaced by a version
    requiring re-consent and the resident did not agree again within the old terms' retention
    period: the data is then not kept unused for ever.
    """
    moment = now or timezone.now()
    due_ids = _due_state_ids(moment)
    expired = 0
    user_model = get_user_model()
    residents = ConsentState.objects.filter(pk__in=due_ids).values_list("resident_id", flat=True)
    for resident_id in sorted(set(residents)):
        with transaction.atomic():
            resident = user_model.objects.select_for_update().get(pk=resident_id)
            # Re-read under the lock: a resident may have re-consented meanwhile.
            states = ConsentState.objects.filter(
                pk__in=_due_state_ids(moment, resident_id=resident_id)
            ).select_related("terms__purpose", "category")
            outcome = _end_states(
                resident=resident,
                states=list(states),
                kind=EventKind.EXPIRE,
                actor=Actor(kind=ActorKind.SYSTEM, user=resident, channel=Channel.SYSTEM),
                now=moment,
            )
            expired += len(outcome.withdrawn)
    return expired


def data_use_log_prune(*, before: date, batch_size: int = 5000) -> int:
    """Delete the data-use log's rows of days before ``before``; returns how many.

    A batch of rows per statement, each committed on its own, not one transaction: a single
    DELETE of a year's rows would hold its locks and grow the write-ahead log for as long as it
    ran, and a batch that fails leaves the earlier ones done (pruning again finishes the job).
    """
    deleted = 0
    while True:
        batch = DataUseEvent.objects.filter(day__lt=before).values("pk")[:batch_size]
        count, _detail = DataUseEvent.objects.filter(pk__in=Subquery(batch)).delete()
        deleted += count
        if count < batch_size:
            return deleted


def _due_state_ids(moment: datetime, *, resident_id: int | None = None) -> set[int]:
    granted = ConsentState.objects.filter(status=ConsentStatus.GRANTED)
    if resident_id is not None:
        granted = granted.filter(resident_id=resident_id)
    due = set(granted.filter(expires_at__lte=moment).values_list("pk", flat=True))
    replacements = _reconsent_versions()
    for pk, purpose_id, version, retention_days in granted.exclude(
        terms_id__in=usable_terms_ids()
    ).values_list("pk", "purpose_id", "terms__version", "terms__retention_days"):
        # The grace period runs from the first version that asked for re-consent after the
        # one granted: publishing yet another version does not extend it.
        replaced_at = next(at for v, at in replacements[purpose_id] if v > version)
        if replaced_at + timedelta(days=retention_days) <= moment:
            due.add(pk)
    return due


def _reconsent_versions() -> dict[int, list[tuple[int, datetime]]]:
    """Per purpose, (version, published_at) of every version that required re-consent."""
    versions: dict[int, list[tuple[int, datetime]]] = {}
    for purpose_id, version, at in (
        ConsentTerms.objects.filter(requires_reconsent=True)
        .order_by("purpose_id", "version")
        .values_list("purpose_id", "version", "published_at")
    ):
        versions.setdefault(purpose_id, []).append((version, at))
    return versions


def _end_states(
    *,
    resident: User,
    states: list[ConsentState],
    kind: EventKind,
    actor: Actor,
    now: datetime | None = None,
) -> WithdrawalOutcome:
    moment = now or timezone.now()
    held_before = _granted_categories(resident_id=resident.pk)
    by_terms: dict[int, list[ConsentState]] = {}
    for state in states:
        by_terms.setdefault(state.terms_id, []).append(state)
    events = [
        _record(
            resident=resident,
            terms=group[0].terms,
            codes=[state.category.code for state in group],
            kind=kind,
            actor=actor,
            now=moment,
        )
        for group in by_terms.values()
    ]
    lost: dict[str, set[str]] = {}
    for state in states:
        lost.setdefault(state.terms.purpose.code, set()).add(state.category.code)
    for purpose_code, categories in lost.items():
        _narrowed(resident_id=resident.pk, purpose_code=purpose_code, categories=categories)
    erased = _erase_uncovered(resident_id=resident.pk, now=moment) & held_before
    still = active_purposes_by_category(resident_id=resident.pk)
    withdrawn = [(state.terms.purpose.code, state.category.code) for state in states]
    kept = {category: still[category] for _purpose, category in withdrawn if category in still}
    return WithdrawalOutcome(events=events, withdrawn=withdrawn, erased=erased, kept=kept)


def _narrowed(*, resident_id: int, purpose_code: str, categories: set[str]) -> None:
    """Tell the owners of derived data that this purpose may no longer read these categories
    (states that were granted, usable or not: a receiver purging twice does no harm)."""
    if categories:
        consent_narrowed.send(
            sender=ConsentState,
            resident_id=resident_id,
            purpose=purpose_code,
            categories=frozenset(categories),
        )


def _lock_resident(resident: User) -> None:
    """Serialise every consent change and attribute write of one resident (PostgreSQL), so a
    write racing a withdrawal cannot store what the withdrawal just erased."""
    list(get_user_model().objects.select_for_update().filter(pk=resident.pk).values_list("pk"))


def _held_in_grace(*, resident_id: int, now: datetime) -> set[str]:
    """Categories granted under replaced terms whose re-consent grace period still runs."""
    return set(
        ConsentState.objects.filter(resident_id=resident_id, status=ConsentStatus.GRANTED)
        .exclude(terms_id__in=usable_terms_ids())
        .exclude(pk__in=_due_state_ids(now, resident_id=resident_id))
        .values_list("category__code", flat=True)
    )


def _granted_categories(*, resident_id: int) -> set[str]:
    """Categories with a grant on record, usable or not (replaced terms, not yet expired)."""
    return set(
        ConsentState.objects.filter(resident_id=resident_id, status=ConsentStatus.GRANTED)
        .values_list("category__code", flat=True)
        .distinct()
    )


def _erase_uncovered(*, resident_id: int, now: datetime | None = None) -> frozenset[str]:
    """Erase every category that no usable consent covers now.

    Erasing is idempotent, so every such category is erased, not only those this change ended:
    data under a refused or lapsed consent goes too. Data granted under terms that were since
    replaced is kept (unusable) until its grace period ends, so the resident can agree again.
    """
    moment = now or timezone.now()
    kept = (
        covered_categories(resident_id=resident_id, now=moment)
        | _held_in_grace(resident_id=resident_id, now=moment)
        | _held_for_counter_disputes(resident_id=resident_id, now=moment)
    )
    uncovered = frozenset(Category.values) - kept
    if uncovered:
        categories_uncovered.send(
            sender=ConsentState, resident_id=resident_id, categories=uncovered
        )
    return uncovered


@transaction.atomic
def _record(
    *,
    resident: User,
    terms: ConsentTerms,
    codes: Iterable[str],
    kind: EventKind,
    actor: Actor,
    now: datetime | None = None,
) -> ConsentEvent:
    """Append the event, bring the consent states to it and count it in the weekly tallies,
    in one transaction (holding the ledger head's lock to its end)."""
    moment = now or timezone.now()
    codes = sorted(set(codes))
    event = append_event(
        kind=kind,
        subject_pseudonym=resident.pseudonym,
        terms=terms,
        category_codes=codes,
        channel=actor.channel,
        actor_kind=actor.kind,
        actor_pseudonym=actor.user.pseudonym if actor.kind == ActorKind.STAFF else None,
        paper_form_reference=actor.paper_form_reference,
        occurred_at=moment,
    )
    before = dict.fromkeys(codes) | dict(
        ConsentState.objects.filter(
            resident=resident, purpose_id=terms.purpose_id, category__code__in=codes
        ).values_list("category__code", "status")
    )
    tally_event(kind=kind, purpose_code=terms.purpose.code, occurred_at=moment, before=before)
    status = STATUS_AFTER_EVENT[kind]
    expires_at = (
        moment + timedelta(days=terms.valid_days)
        if kind == EventKind.GRANT and terms.valid_days
        else None
    )
    categories = {c.code: c for c in DataCategory.objects.filter(code__in=codes)}
    for code in codes:
        ConsentState.objects.update_or_create(
            resident=resident,
            purpose_id=terms.purpose_id,
            category=categories[code],
            defaults={
                "status": status,
                "terms": terms,
                "event": event,
                "changed_at": moment,
                "expires_at": expires_at,
            },
        )
    if kind == EventKind.GRANT and codes:
        consent_widened.send(
            sender=ConsentState,
            resident_id=resident.pk,
            purpose=terms.purpose.code,
            categories=frozenset(codes),
        )
    return event


def _current_terms_for_decision(terms_id: int) -> ConsentTerms:
    terms: ConsentTerms | None = (
        ConsentTerms.objects.select_related("purpose").filter(pk=terms_id).first()
    )
    if terms is None:
        raise ConsentError(_("These terms do not exist."))
    newest = ConsentTerms.objects.filter(purpose=terms.purpose).order_by("-version").first()
    if newest is None or newest.pk != terms.pk:
        raise ConsentError(
            _("These terms have been replaced: please read the new version and decide again.")
        )
    return terms


def _validated_categories(terms: ConsentTerms, codes: Collection[str]) -> list[str]:
    unknown = sorted(set(codes) - set(Category.values))
    if unknown:
        raise ConsentError(_("Unknown data category: %(code)s") % {"code": ", ".join(unknown)})
    outside = sorted(set(codes) - set(terms.category_codes))
    if outside:
        raise ConsentError(
            _("The terms for %(purpose)s do not cover: %(codes)s")
            % {"purpose": terms.purpose.name, "codes": ", ".join(outside)}
        )
    if not codes:
        raise ConsentError(_("Choose at least one data category."))
    return sorted(set(codes))


def _check_known(
    model: type[DataCategory] | type[Recipient], codes: Iterable[str], message: str
) -> None:
    known = set(model.objects.filter(code__in=list(codes)).values_list("code", flat=True))
    for code in codes:
        if code not in known:
            raise ConsentError(message % {"code": code})


def _normalised(value: object) -> object:
    return sorted(value) if isinstance(value, list) else value


# ---------------------------------------------------------------------------------------------
# The paper-form register: references issued in numbered batches, each used at most once
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def paper_form_batch_issue(
    *, officer: User, size: int, issued_to: str, ip_address: str | None = None
) -> PaperFormBatch:
    """Issue the next numbered batch of references, following on from the last serial."""
    if not 1 <= size <= settings.PAPER_FORM_BATCH_MAX:
        raise ConsentError(
            _("A batch holds between 1 and %(max)s forms.") % {"max": settings.PAPER_FORM_BATCH_MAX}
        )
    issued_to = issued_to.strip()
    if not issued_to:
        raise ConsentError(_("Say which counter or office receives the batch."))
    # Locking the newest batch serialises issuing, so numbers and serials never overlap (the
    # unique constraints catch the very first batch being issued twice at once).
    last = PaperFormBatch.objects.select_for_update().order_by("-number").first()
    first_serial = last.last_serial + 1 if last else 1
    batch = PaperFormBatch.objects.create(
        number=last.number + 1 if last else 1,
        first_serial=first_serial,
        last_serial=first_serial + size - 1,
        issued_to=issued_to,
        issued_at=timezone.now(),
        issued_by=officer,
        issued_by_email=officer.email,
    )
    PaperForm.objects.bulk_create(
        PaperForm(
            reference=format_reference(settings.PAPER_FORM_PREFIX, serial),
            serial=serial,
            batch=batch,
        )
        for serial in range(batch.first_serial, batch.last_serial + 1)
    )
    StaffAuditEntry.objects.record(
        actor=officer,
        action="consent.paper_forms.issue",
        reference=f"batch {batch.number}",
        detail={
            "first": format_reference(settings.PAPER_FORM_PREFIX, batch.first_serial),
            "last": format_reference(settings.PAPER_FORM_PREFIX, batch.last_serial),
            "issued_to": issued_to,
        },
        ip_address=ip_address,
    )
    return batch


@transaction.atomic
def paper_form_void(
    *, officer: User, reference: str, reason: str, ip_address: str | None = None
) -> PaperForm:
    """Take a lost, spoiled or stolen blank form out of use for good."""
    reason = reason.strip()
    if not reason:
        raise ConsentError(_("Say why the form is voided."))
    form = _unused_paper_form(reference)
    form.status = PaperFormStatus.VOIDED
    form.voided_at = timezone.now()
    form.void_reason = reason[:200]
    form.save(update_fields=["status", "voided_at", "void_reason"])
    StaffAuditEntry.objects.record(
        actor=officer,
        action="consent.paper_forms.void",
        reference=form.reference,
        detail={"reason": form.void_reason},
        ip_address=ip_address,
    )
    return form


def paper_form_take(*, reference: str) -> PaperForm:
    """Lock an unused form of the register for the counter consent being recorded with it.

    Call inside the transaction that records the consent: the form stays unused if it fails.
    """
    return _unused_paper_form(reference)


@dataclass(frozen=True)
class PaperFormUse:
    """What a counter consent asked for, as written on the paper form."""

    action: str
    purpose_code: str
    category_codes: list[str]


def paper_form_mark_used(
    *,
    form: PaperForm,
    staff: User,
    use: PaperFormUse,
    resident: User | None,
    ip_address: str | None = None,
) -> None:
    """The form is spent, whether or not it matched a verified resident account."""
    form.status = PaperFormStatus.USED
    form.used_at = timezone.now()
    form.used_by = staff
    form.used_by_email = staff.email
    form.action = use.action
    form.purpose_code = use.purpose_code
    form.category_codes = sorted(use.category_codes)
    form.subject_pseudonym = resident.pseudonym if resident else None
    if resident is not None and use.action == CounterAction.WITHDRAW:
        form.erasure_held_until = form.used_at + timedelta(
            days=settings.COUNTER_WITHDRAWAL_HOLD_DAYS
        )
    form.save()
    StaffAuditEntry.objects.record(
        actor=staff,
        action=f"consent.counter.{use.action}",
        subject_pseudonym=form.subject_pseudonym,
        reference=form.reference,
        detail={"purpose": use.purpose_code, "categories": form.category_codes},
        ip_address=ip_address,
    )


def _unused_paper_form(reference: str) -> PaperForm:
    parsed = parse_reference(reference, prefix=settings.PAPER_FORM_PREFIX)
    if parsed is None:
        raise ConsentError(
            _(
                "“%(reference)s” is not a reference of the register: check the letters, the six "
                "digits and the last digit against the printed form."
            )
            % {"reference": reference}
        )
    form = PaperForm.objects.select_for_update().filter(reference=parsed).first()
    if form is None:
        raise ConsentError(
            _("%(reference)s has not been issued: only forms from an issued batch can be used.")
            % {"reference": parsed}
        )
    if form.status == PaperFormStatus.USED:
        raise ConsentError(
            _("%(reference)s was already used on %(date)s: a paper form counts once.")
            % {"reference": parsed, "date": date_format(timezone.localtime(form.used_at))}
        )
    if form.status == PaperFormStatus.VOIDED:
        raise ConsentError(
            _("%(reference)s was voided (%(reason)s) and cannot be used.")
            % {"reference": parsed, "reason": form.void_reason}
        )
    return form


# ---------------------------------------------------------------------------------------------
# Disputes: a resident says a paper form recorded in their name is not theirs
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def counter_dispute_open(*, resident: User, reference: str, reason: str) -> CounterDispute:
    """Open a dispute; whatever the disputed form granted stops counting at once.

    A grant the resident never made must not wait for an officer to look at it. Later grants
    the resident made themselves, online, are left alone.
    """
    reason = reason.strip()
    if not reason:
        raise ConsentError(_("Tell us what is wrong with this record."))
    _lock_resident(resident)
    form = (
        PaperForm.objects.select_for_update()
        .filter(
            reference=reference,
            subject_pseudonym=resident.pseudonym,
            status=PaperFormStatus.USED,
        )
        .first()
    )
    if form is None:
        raise ConsentError(_("No paper form with this reference was recorded for you."))
    if CounterDispute.objects.filter(paper_form=form).exists():
        raise ConsentError(_("You have already disputed this paper form."))
    withdrawn: set[str] = set()
    restored: set[str] = set()
    if form.action == CounterAction.GRANT:
        withdrawn = _undo_counter_grant(resident=resident, form=form)
    else:
        restored = _undo_counter_withdrawal(resident=resident, form=form)
    return CounterDispute.objects.create(
        paper_form=form,
        opened_at=timezone.now(),
        reason=reason[:2000],
        withdrawn_category_codes=sorted(withdrawn),
        restored_category_codes=sorted(restored),
    )


def _undo_counter_grant(*, resident: User, form: PaperForm) -> set[str]:
    """Withdraw what the disputed form granted and still holds (the form's own event is the
    state's newest: later choices the resident made online are left alone)."""
    still_granted = ConsentState.objects.filter(
        resident=resident,
        status=ConsentStatus.GRANTED,
        event__paper_form_reference=form.reference,
    ).select_related("terms__purpose", "category")
    outcome = _end_states(
        resident=resident,
        states=list(still_granted),
        kind=EventKind.WITHDRAW,
        actor=Actor.resident(resident),
    )
    return {category for _purpose, category in outcome.withdrawn}


def _undo_counter_withdrawal(*, resident: User, form: PaperForm) -> set[str]:
    """Give again, in the resident's own name, what the disputed form withdrew: disputing says
    "I did not withdraw". Only under terms that are still current; categories the resident has
    granted again meanwhile need nothing."""
    ended = ConsentState.objects.filter(
        resident=resident,
        status=ConsentStatus.WITHDRAWN,
        event__paper_form_reference=form.reference,
        terms_id__in=usable_terms_ids(),
    ).select_related("terms")
    codes_by_terms: dict[int, list[str]] = {}
    for state in ended.select_related("category"):
        codes_by_terms.setdefault(state.terms_id, []).append(state.category.code)
    restored: set[str] = set()
    for terms_id, codes in codes_by_terms.items():
        consent_grant(
            resident=resident,
            terms_id=terms_id,
            category_codes=codes,
            actor=Actor.resident(resident),
        )
        restored.update(codes)
    return restored


def counter_withdrawal_holds_release(*, now: datetime | None = None) -> int:
    """Erase what counter withdrawals left uncovered once their dispute window has passed
    (and no dispute is open). Returns how many forms were released; safe to run twice."""
    moment = now or timezone.now()
    due = (
        PaperForm.objects.filter(
            action=CounterAction.WITHDRAW,
            erasure_held_until__lte=moment,
            erasure_released_at__isnull=True,
        )
        .exclude(dispute__resolved_at__isnull=True, dispute__isnull=False)
        .order_by("pk")
    )
    released = 0
    for form in due:
        with transaction.atomic():
            pseudonym = form.subject_pseudonym
            resident = (
                get_user_model().objects.filter(pseudonym=pseudonym).first() if pseudonym else None
            )
            if resident is not None:
                _lock_resident(resident)
                _erase_uncovered(resident_id=resident.pk, now=moment)
            PaperForm.objects.filter(pk=form.pk).update(erasure_released_at=moment)
            released += 1
    return released


def _held_for_counter_disputes(*, resident_id: int, now: datetime) -> set[str]:
    """Categories a counter withdrawal ended whose dispute window runs, or is disputed."""
    forms = PaperForm.objects.filter(
        subject_pseudonym__in=get_user_model().objects.filter(pk=resident_id).values("pseudonym"),
        action=CounterAction.WITHDRAW,
        erasure_released_at__isnull=True,
    ).filter(
        Q(erasure_held_until__gt=now) | Q(dispute__resolved_at__isnull=True, dispute__isnull=False)
    )
    return {code for codes in forms.values_list("category_codes", flat=True) for code in codes}


@transaction.atomic
def counter_dispute_resolve(
    *, officer: User, dispute_id: int, resolution: str, ip_address: str | None = None
) -> CounterDispute:
    resolution = resolution.strip()
    if not resolution:
        raise ConsentError(_("Say how the dispute was resolved."))
    dispute = (
        CounterDispute.objects.select_for_update()
        .select_related("paper_form")
        .filter(pk=dispute_id, resolved_at__isnull=True)
        .first()
    )
    if dispute is None:
        raise ConsentError(_("This dispute is not open."))
    dispute.resolved_at = timezone.now()
    dispute.resolved_by = officer
    dispute.resolved_by_email = officer.email
    dispute.resolution = resolution[:2000]
    dispute.save(update_fields=["resolved_at", "resolved_by", "resolved_by_email", "resolution"])
    StaffAuditEntry.objects.record(
        actor=officer,
        action="consent.counter.dispute_resolved",
        subject_pseudonym=dispute.paper_form.subject_pseudonym,
        reference=dispute.paper_form.reference,
        detail={"resolution": dispute.resolution},
        ip_address=ip_address,
    )
    return dispute


def ledger_verify() -> LedgerVerification:
    """Walk the ledger's hash chain and signatures, then (if the chain holds) replay it against
    the consent states and the weekly tallies, and record the run: its outcome is the ledger's
    status in the reports."""
    started_at = timezone.now()
    chain = verify_chain()
    states = verify_states() if chain.intact else None
    tallies = tallies_problem() if chain.intact else None
    problem = chain.described() if states is None else (states.problem or tallies or "")
    return LedgerVerification.objects.create(
        started_at=started_at,
        finished_at=timezone.now(),
        chain_intact=chain.intact,
        intact=chain.intact and states is not None and states.intact,
        tallies_intact=tallies is None if chain.intact else None,
        events_verified=chain.verified,
        head_hash=chain.last_hash,
        accounts_checked=states.checked if states is not None else 0,
        problem=problem,
    )
