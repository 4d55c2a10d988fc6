"""Read-only queries of the consent app: terms, states, ledger history, data-use log.

These never touch resident attributes; those are read through consent.policy only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from allauth.account.models import EmailAddress
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from consent.catalogue import categories_in
from consent.ledger import GENESIS_HASH, HeadMark
from consent.models import (
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    ConsentTerms,
    CounterDispute,
    DataCategory,
    DataUseEvent,
    LedgerHead,
    LedgerVerification,
    PaperForm,
    PaperFormBatch,
    PaperFormStatus,
    Purpose,
    Recipient,
)
from portal.models import User


def current_terms(*, purpose_code: str) -> ConsentTerms | None:
    return (
        ConsentTerms.objects.filter(purpose__code=purpose_code)
        .select_related("purpose")
        .order_by("-version")
        .first()
    )


def all_current_terms() -> list[ConsentTerms]:
    """The newest terms of every purpose, in the catalogue's order."""
    newest: dict[int, ConsentTerms] = {}
    for terms in ConsentTerms.objects.select_related("purpose").order_by("purpose_id", "-version"):
        newest.setdefault(terms.purpose_id, terms)
    return sorted(newest.values(), key=lambda terms: terms.purpose.position)


# Inside terms_read_once: the terms read by the block's first consent read (empty before).
_terms_of_this_page: ContextVar[list[dict[int, frozenset[str]]] | None] = ContextVar(
    "usable_terms_of_this_page", default=None
)


@contextmanager
def terms_read_once() -> Iterator[None]:
    """Inside the block, the usable terms are read once, at its first consent read: for a page
    that checks several consents within a few milliseconds. A terms version published meanwhile
    applies from the next page on."""
    token = _terms_of_this_page.set([])
    try:
        yield
    finally:
        _terms_of_this_page.reset(token)


def usable_terms_recipients() -> dict[int, frozenset[str]]:
    """Terms whose consents still count (no later version of the purpose requires re-consent),
    each with the recipients it names: one query of a few narrow columns."""
    read_once = _terms_of_this_page.get()
    if read_once is None:
        return _read_usable_terms()
    if not read_once:
        read_once.append(_read_usable_terms())
    return read_once[0]


def _read_usable_terms() -> dict[int, frozenset[str]]:
    usable: dict[int, frozenset[str]] = {}
    by_purpose: dict[int, list[tuple[int, bool, list[str]]]] = defaultdict(list)
    rows = ConsentTerms.objects.order_by("purpose_id", "version").values_list(
        "purpose_id", "id", "requires_reconsent", "recipient_codes"
    )
    for purpose_id, terms_id, requires_reconsent, recipients in rows:
        by_purpose[purpose_id].append((terms_id, requires_reconsent, recipients))
    for versions in by_purpose.values():
        cut = max((i for i, (_id, again, _r) in enumerate(versions) if again), default=0)
        usable.update((terms_id, frozenset(names)) for terms_id, _again, names in versions[cut:])
    return usable


def usable_terms_ids(*, naming: str | None = None) -> set[int]:
    """Terms whose consents still count; with ``naming``, only those naming this recipient."""
    return {
        terms_id
        for terms_id, recipients in usable_terms_recipients().items()
        if naming is None or naming in recipients
    }


def active_grants_q(
    *,
    now: datetime | None = None,
    recipient: str | None = None,
    usable_terms: Iterable[int] | None = None,
) -> Q:
    """The condition for a ConsentState row that lets its purpose read its category now (on
    behalf of ``recipient``, if named: its terms must name that recipient). ``usable_terms``:
    the ids ``usable_terms_ids`` gives, when the caller has them already."""
    if usable_terms is not None and recipient is not None:
        # The ids given were chosen for no recipient in particular: refuse rather than ignore.
        raise ValueError("name the recipient or pass the usable terms, not both")
    moment = now or timezone.now()
    terms = usable_terms_ids(naming=recipient) if usable_terms is None else set(usable_terms)
    return Q(status=ConsentStatus.GRANTED, terms_id__in=terms) & (
        Q(expires_at__isnull=True) | Q(expires_at__gt=moment)
    )


def resident_id_ranges(*, purpose: str, size: int) -> list[tuple[int, int]]:
    """Contiguous resident id ranges (both ends included) that split the residents with an
    active grant for ``purpose`` into groups of at most ``size``: one range task each, for
    ``consent.policy.iter_profile_chunks``.

    Each range starts right after the one before, so the ranges leave no gap between the first
    such resident and the last.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    ids = (
        ConsentState.objects.filter(active_grants_q(), purpose__code=purpose)
        .values_list("resident_id", flat=True)
        .distinct()
        .order_by("resident_id")
    )
    ranges: list[tuple[int, int]] = []
    low: int | None = None
    count = 0
    last = 0
    for resident_id in ids.iterator(chunk_size=10_000):
        if low is None:
            low = resident_id
        count, last = count + 1, resident_id
        if count == size:
            ranges.append((low, resident_id))
            low, count = resident_id + 1, 0
    if count:
        assert low is not None
        ranges.append((low, last))
    return ranges


def states_of(*, resident_id: int) -> QuerySet[ConsentState]:
    return ConsentState.objects.filter(resident_id=resident_id).select_related(
        "purpose", "category", "terms", "event"
    )


def covered_categories(*, resident_id: int, now: datetime | None = None) -> set[str]:
    """Categories some purpose may use now: only these attributes may be stored."""
    return set(
        ConsentState.objects.filter(active_grants_q(now=now), resident_id=resident_id)
        .values_list("category__code", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class ConsentRow:
    """One (purpose, category) cell of a resident's consent overview."""

    purpose: Purpose
    category: DataCategory
    status: str | None
    active: bool
    needs_reconsent: bool
    expires_at: datetime | None


def consent_overview(*, resident_id: int) -> list[tuple[ConsentTerms, list[ConsentRow]]]:
    """For each purpose's current terms, the state of each category those terms cover."""
    usable = usable_terms_ids()
    now = timezone.now()
    states = {(s.purpose_id, s.category.code): s for s in states_of(resident_id=resident_id)}
    categories = {c.code: c for c in DataCategory.objects.all()}
    overview = []
    for terms in all_current_terms():
        rows = []
        for code in terms.category_codes:
            state = states.get((terms.purpose_id, code))
            granted = state is not None and state.status == ConsentStatus.GRANTED
            rows.append(
                ConsentRow(
                    purpose=terms.purpose,
                    category=categories[code],
                    status=state.status if state else None,
                    active=granted
                    and state is not None
                    and state.terms_id in usable
                    and (state.expires_at is None or state.expires_at > now),
                    needs_reconsent=granted and state is not None and state.terms_id not in usable,
                    expires_at=state.expires_at if state else None,
                )
            )
        overview.append((terms, rows))
    return overview


def ledger_history(*, pseudonym: UUID) -> QuerySet[ConsentEvent]:
    return (
        ConsentEvent.objects.filter(subject_pseudonym=pseudonym)
        .select_related("terms", "terms__purpose")
        .order_by("-id")
    )


def receipt_event(*, public_id: UUID, pseudonym: UUID) -> ConsentEvent | None:
    """An event, only if it belongs to this resident (a receipt id is no bearer token)."""
    return (
        ConsentEvent.objects.filter(public_id=public_id, subject_pseudonym=pseudonym)
        .select_related("terms", "terms__purpose")
        .first()
    )


@dataclass(frozen=True)
class DataUseSummary:
    category_code: str
    purpose_code: str
    uses: int


def data_use_summary(*, resident_id: int, days: int = 7) -> list[DataUseSummary]:
    """How often each category was read for each purpose on the last ``days`` days (today
    included): the uses of every logged day that read the category."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    rows = data_uses_since(resident_id=resident_id, days=days).values_list(
        "purpose_code", "category_mask", "use_count"
    )
    for purpose_code, mask, uses in rows:
        for code in categories_in(mask):
            counts[(code, purpose_code)] += uses
    return [
        DataUseSummary(category_code=c, purpose_code=p, uses=n)
        for (c, p), n in sorted(counts.items())
    ]


def data_uses_since(*, resident_id: int, days: int) -> QuerySet[DataUseEvent]:
    """The resident's log of the last ``days`` days (today included), newest day first."""
    since = timezone.localdate() - timedelta(days=days - 1)
    return DataUseEvent.objects.filter(resident_id=resident_id, day__gte=since).order_by(
        "-day", "purpose_code", "recipient_code", "reader_kind", "reader_name", "id"
    )


def purposes_using(*, category_code: str, resident_id: int) -> list[str]:
    """Purposes that may read this category of this resident now."""
    return list(
        ConsentState.objects.filter(
            active_grants_q(), resident_id=resident_id, category__code=category_code
        ).values_list("purpose__code", flat=True)
    )


def active_purposes_by_category(*, resident_id: int) -> dict[str, list[str]]:
    result: dict[str, list[str]] = defaultdict(list)
    for category_code, purpose_code in ConsentState.objects.filter(
        active_grants_q(), resident_id=resident_id
    ).values_list("category__code", "purpose__code"):
        result[category_code].append(purpose_code)
    return dict(result)


def residents_with_states(*, ids: Iterable[int]) -> set[int]:
    return set(
        ConsentState.objects.filter(resident_id__in=list(ids)).values_list("resident_id", flat=True)
    )


def data_categories(*, codes: Iterable[str] | None = None) -> QuerySet[DataCategory]:
    """Data categories in the catalogue's order: all of them, or those with these codes."""
    categories = DataCategory.objects.order_by("position")
    if codes is not None:
        categories = categories.filter(code__in=list(codes))
    return categories


def category_by_code(*, code: str) -> DataCategory | None:
    return DataCategory.objects.filter(code=code).first()


def purpose_by_code(*, code: str) -> Purpose | None:
    return Purpose.objects.filter(code=code).first()


def purposes_by_code() -> dict[str, Purpose]:
    return {purpose.code: purpose for purpose in Purpose.objects.all()}


def recipients_by_code() -> dict[str, Recipient]:
    return {recipient.code: recipient for recipient in Recipient.objects.all()}


def granted_states(
    *, resident_id: int, purpose_code: str | None = None, category_code: str | None = None
) -> QuerySet[ConsentState]:
    """States still marked granted (some may have expired or need re-consent), of one
    purpose, one category, or both if named."""
    states = states_of(resident_id=resident_id).filter(status=ConsentStatus.GRANTED)
    if purpose_code is not None:
        states = states.filter(purpose__code=purpose_code)
    if category_code is not None:
        states = states.filter(category__code=category_code)
    return states


def active_consent_count(*, resident_id: int) -> int:
    """How many (purpose, category) consents let a purpose read this resident's data now."""
    return sum(
        len(purposes) for purposes in active_purposes_by_category(resident_id=resident_id).values()
    )


def data_uses(*, resident_id: int) -> QuerySet[DataUseEvent]:
    """The resident's whole data-use log, oldest day first."""
    return DataUseEvent.objects.filter(resident_id=resident_id).order_by("day", "id")


# ---------------------------------------------------------------------------------------------
# The paper-form register
# ---------------------------------------------------------------------------------------------


def verified_resident_by_email(*, email: str) -> User | None:
    """The resident account a paper form's address belongs to, if it may be used at all.

    Only a resident (no staff power of any kind) whose address is verified: a counter consent
    must never be recorded for staff, for an administrator, or for an address nobody proved.
    """
    typed = email.strip().lower()
    candidates = EmailAddress.objects.filter(
        email__iexact=typed,
        verified=True,
        user__is_active=True,
        user__is_staff=False,
        user__is_superuser=False,
        user__groups__isnull=True,
        user__user_permissions__isnull=True,
    ).select_related("user")
    # The database folds case by its own rules (PostgreSQL's UPPER() turns a dotless ı into I),
    # so an address must also be the same as typed once Python lower-cases both.
    for address in candidates:
        user = address.user
        if address.email.lower() == typed and isinstance(user, User):
            return user
    return None


def categories_granted_under(*, resident_id: int, terms_id: int) -> set[str]:
    """The categories a resident's active grants hold under these exact terms."""
    return set(
        ConsentState.objects.filter(
            resident_id=resident_id, terms_id=terms_id, status=ConsentStatus.GRANTED
        ).values_list("category__code", flat=True)
    )


def paper_form_batches() -> QuerySet[PaperFormBatch]:
    """Every batch, newest first, with how many of its forms are unused, used and voided."""
    return PaperFormBatch.objects.annotate(
        unused=Count("forms", filter=Q(forms__status=PaperFormStatus.ISSUED)),
        used=Count("forms", filter=Q(forms__status=PaperFormStatus.USED)),
        voided=Count("forms", filter=Q(forms__status=PaperFormStatus.VOIDED)),
    )


def paper_form_batch(*, number: int) -> PaperFormBatch | None:
    return paper_form_batches().filter(number=number).first()


def paper_forms_of_batch(*, batch: PaperFormBatch) -> QuerySet[PaperForm]:
    return batch.forms.order_by("serial")


def counter_disputes(*, open_only: bool = True) -> QuerySet[CounterDispute]:
    disputes = CounterDispute.objects.select_related("paper_form")
    return disputes.filter(resolved_at__isnull=True) if open_only else disputes


def paper_forms_recorded_for(*, pseudonym: UUID) -> QuerySet[PaperForm]:
    """The paper forms staff recorded in a resident's name, newest first, with any dispute."""
    return (
        PaperForm.objects.filter(subject_pseudonym=pseudonym, status=PaperFormStatus.USED)
        .select_related("dispute")
        .order_by("-used_at")
    )


def paper_form_recorded_for(*, reference: str, pseudonym: UUID) -> PaperForm | None:
    return paper_forms_recorded_for(pseudonym=pseudonym).filter(reference=reference).first()


def counter_events(*, paper_form: PaperForm) -> QuerySet[ConsentEvent]:
    """The ledger events a paper form recorded (none for a withdrawal of nothing active)."""
    if paper_form.subject_pseudonym is None:
        return ConsentEvent.objects.none()
    return ConsentEvent.objects.filter(
        paper_form_reference=paper_form.reference, subject_pseudonym=paper_form.subject_pseudonym
    ).order_by("id")


def ledger_head() -> HeadMark:
    """The head the ledger records (not verified: consent_verify_ledger does that)."""
    head = LedgerHead.objects.filter(singleton=1).first()
    return HeadMark(head.last_hash, head.event_count) if head else HeadMark(GENESIS_HASH, 0)


def grant_dates(*, resident_id: int, purpose_code: str) -> dict[str, datetime]:
    """For each category the purpose may use now, when the resident last granted it (the time
    "why am I seeing this?" names). Consent states only: no attribute is read."""
    return sharing_now(resident_id=resident_id).grant_dates(purpose_code)


@dataclass(frozen=True)
class Sharing:
    """What a resident shares now, purpose by purpose: each category some purpose may use,
    with when the resident last granted it. Consent states only: no attribute is read."""

    granted: dict[str, dict[str, datetime]] = field(default_factory=dict)

    @property
    def categories(self) -> frozenset[str]:
        """The categories some purpose may use now (as ``covered_categories``)."""
        return frozenset(category for dates in self.granted.values() for category in dates)

    def grant_dates(self, purpose_code: str) -> dict[str, datetime]:
        return dict(self.granted.get(purpose_code, {}))


def sharing_now(*, resident_id: int) -> Sharing:
    """The resident's active grants, in one query: what a page says about their sharing."""
    granted: dict[str, dict[str, datetime]] = defaultdict(dict)
    rows = ConsentState.objects.filter(active_grants_q(), resident_id=resident_id).values_list(
        "purpose__code", "category__code", "changed_at"
    )
    for purpose, category, changed_at in rows:
        granted[purpose][category] = changed_at
    return Sharing(granted=dict(granted))


def consent_changed_since(
    *, purpose_code: str, id_range: tuple[int, int], since: datetime
) -> set[int]:
    """Residents in ``id_range`` whose consent for the purpose changed at or after ``since``:
    what a writer of derived data read before then may no longer be theirs to keep."""
    low, high = id_range
    return set(
        ConsentState.objects.filter(
            purpose__code=purpose_code,
            resident_id__gte=low,
            resident_id__lte=high,
            changed_at__gte=since,
        ).values_list("resident_id", flat=True)
    )


def latest_ledger_verification() -> LedgerVerification | None:
    """The ledger's status for the reports: its latest verification run, if any ran."""
    return LedgerVerification.objects.order_by("-finished_at", "-id").first()
