"""The hash chain of the consent ledger: appending an event and verifying the whole chain.

Every event is also signed (consent/signing.py): the chain shows a change to an event unless
every later hash was recomputed too, which anyone able to write the database can do; a
signature cannot be recomputed without the signing key, which the database does not hold.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from consent.models import STATUS_AFTER_EVENT, ConsentEvent, ConsentTerms, EventKind, LedgerHead
from consent.signing import current_signing_key, event_signature, signature_verifies, verifying_keys

GENESIS_HASH = "0" * 64


def canonical_json(data: Mapping[str, Any]) -> bytes:
    """One byte string per value: sorted keys, no whitespace, UTF-8."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(data: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()


def event_payload(event: ConsentEvent, *, terms_hash: str) -> dict[str, Any]:
    """Every field of an event that its hash covers (all but the id, the hashes and the
    signature)."""
    return {
        "public_id": str(event.public_id),
        "kind": event.kind,
        "subject": str(event.subject_pseudonym),
        "terms": terms_hash,
        "purpose": event.purpose_code,
        "categories": list(event.category_codes),
        "recipients": list(event.recipient_codes),
        "channel": event.channel,
        "actor_kind": event.actor_kind,
        "actor": str(event.actor_pseudonym) if event.actor_pseudonym else None,
        "paper_form_reference": event.paper_form_reference,
        "occurred_at": _utc_iso(event.occurred_at),
    }


def chain_hash(previous_hash: str, payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(previous_hash.encode() + canonical_json(payload)).hexdigest()


@transaction.atomic
def append_event(
    *,
    kind: str,
    subject_pseudonym: UUID,
    terms: ConsentTerms,
    category_codes: Iterable[str],
    channel: str,
    actor_kind: str,
    actor_pseudonym: UUID | None,
    paper_form_reference: str,
    occurred_at: datetime,
) -> ConsentEvent:
    """Append one event at the head of the chain; concurrent appends wait for each other."""
    LedgerHead.objects.get_or_create(singleton=1, defaults={"last_hash": GENESIS_HASH})
    head = LedgerHead.objects.select_for_update().get(singleton=1)
    event = ConsentEvent(
        kind=kind,
        subject_pseudonym=subject_pseudonym,
        terms=terms,
        purpose_code=terms.purpose.code,
        category_codes=sorted(set(category_codes)),
        recipient_codes=sorted(terms.recipient_codes),
        channel=channel,
        actor_kind=actor_kind,
        actor_pseudonym=actor_pseudonym,
        paper_form_reference=paper_form_reference,
        occurred_at=occurred_at,
        previous_hash=head.last_hash,
    )
    event.hash = chain_hash(head.last_hash, event_payload(event, terms_hash=terms.content_hash))
    event.signature = event_signature(event.hash, key=current_signing_key())
    event.save()
    head.last_hash = event.hash
    head.event_count += 1
    head.save(update_fields=["last_hash", "event_count"])
    return event


@dataclass(frozen=True)
class HeadMark:
    """A point of the chain: the hash of its ``event_count``-th event (the genesis hash at 0).

    Written down outside the database (consent.tasks.log_ledger_head), it shows later whether
    the ledger still reaches that point: a ledger cut back and given a matching head would
    otherwise verify as intact.
    """

    last_hash: str
    event_count: int

    def __str__(self) -> str:
        return f"{self.last_hash}:{self.event_count}"

    @classmethod
    def parse(cls, text: str) -> HeadMark:
        """``HASH:COUNT`` as printed by ``__str__``; ValueError for anything else."""
        last_hash, _colon, count = text.partition(":")
        if not re.fullmatch(r"[0-9a-f]{64}", last_hash) or not count.isdigit():
            raise ValueError(f"not HASH:COUNT: {text!r}")
        return cls(last_hash, int(count))


@dataclass(frozen=True)
class ChainVerification:
    verified: int
    first_bad_event_id: int | None = None
    problem: str | None = None
    last_hash: str = GENESIS_HASH

    @property
    def intact(self) -> bool:
        return self.problem is None

    @property
    def head(self) -> HeadMark:
        """Where the verified part of the chain ends."""
        return HeadMark(self.last_hash, self.verified)

    def described(self) -> str:
        """The problem in one line, for the verifier command and the nightly task's log."""
        where = f"event #{self.first_bad_event_id}" if self.first_bad_event_id else "ledger"
        return f"{where} {self.problem} ({self.verified} events verified before it)"


def terms_hash_of(terms: ConsentTerms) -> str:
    """The content hash recomputed from the terms' columns (not the stored one)."""
    return content_hash(terms.hashed_content())


def verify_chain(*, batch_size: int = 5000) -> ChainVerification:
    """Recompute every terms' and event's hash and check every event's signature, in order;
    report the first that does not match."""
    terms_hashes: dict[int, str] = {}
    all_terms = list(ConsentTerms.objects.select_related("purpose"))
    for terms in all_terms:
        if terms_hash_of(terms) != terms.content_hash:
            return ChainVerification(
                0, None, f"the terms {terms} were changed after they were published"
            )
        terms_hashes[terms.pk] = terms.content_hash
    keys = verifying_keys()
    expected_previous = GENESIS_HASH
    verified = 0
    for event in ConsentEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.previous_hash != expected_previous:
            return ChainVerification(verified, event.pk, "does not follow the event before it")
        recomputed = chain_hash(
            event.previous_hash, event_payload(event, terms_hash=terms_hashes[event.terms_id])
        )
        if recomputed != event.hash:
            return ChainVerification(verified, event.pk, "its content does not match its hash")
        if not event.signature:
            return ChainVerification(verified, event.pk, "is not signed")
        if not signature_verifies(event.hash, event.signature, keys=keys):
            return ChainVerification(
                verified,
                event.pk,
                "its signature does not verify under the signing key or any fallback key: "
                "it was changed, with every hash after it, or signed with an unknown key",
            )
        expected_previous = event.hash
        verified += 1
    head = LedgerHead.objects.filter(singleton=1).first()
    recorded = (head.last_hash, head.event_count) if head else (GENESIS_HASH, 0)
    if recorded != (expected_previous, verified):
        return ChainVerification(
            verified, None, "the chain does not end at the recorded head: events were removed"
        )
    return ChainVerification(verified, None, _publication_problem(all_terms), expected_previous)


def chain_reaches(mark: HeadMark) -> bool:
    """Whether the chain's ``mark.event_count``-th event has ``mark.last_hash``.

    Meaningful on an intact chain (verify_chain), whose order is the events' id order: then the
    ledger is the one that had this head, or an extension of it.
    """
    if mark.event_count == 0:
        return mark.last_hash == GENESIS_HASH
    at_count = ConsentEvent.objects.order_by("id").values_list("hash", flat=True)[
        mark.event_count - 1 : mark.event_count
    ]
    return list(at_count) == [mark.last_hash]


def _publication_problem(all_terms: list[ConsentTerms]) -> str | None:
    """Check each terms' publication time against the ledger and the other versions.

    The time is outside the content hash: hashing it now would change the hash of every terms
    already published, and so of every event after them. It stays immutable instead (the model
    refuses, and on PostgreSQL a trigger); this catches the changes those cannot stop (the
    tables' owner, or SQLite): no event under terms before they were published, versions
    published in order, none in the future. Moving it later matters: a re-consent version's
    publication starts the grace period of consents to earlier versions.
    """
    first_use = dict(
        ConsentEvent.objects.order_by()
        .values("terms_id")
        .annotate(first=Min("occurred_at"))
        .values_list("terms_id", "first")
    )
    now = timezone.now()
    previous: dict[int, datetime] = {}
    for terms in sorted(all_terms, key=lambda t: (t.purpose_id, t.version)):
        published = terms.published_at
        used = first_use.get(terms.pk)
        earlier = previous.get(terms.purpose_id, published)
        if published > now or (used is not None and used < published) or published < earlier:
            return (
                f"the terms {terms} say they were published at {_utc_iso(published)}, "
                "which the ledger and the other versions contradict"
            )
        previous[terms.purpose_id] = published
    return None


@dataclass(frozen=True)
class StateVerification:
    """Whether the consent states the policy reads are what the ledger says they are."""

    checked: int
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify_states(*, batch_size: int = 1000) -> StateVerification:
    """Replay the ledger, resident by resident, and compare it with ConsentState.

    The policy reads ConsentState for speed; this proves nobody changed a state behind the
    ledger's back. Residents are checked in batches so memory stays flat at any size.
    """
    users = get_user_model().objects.order_by("pk").values_list("pk", "pseudonym")
    checked = 0
    batch: list[tuple[int, UUID]] = []
    for row in users.iterator(chunk_size=batch_size):
        batch.append(row)
        if len(batch) == batch_size:
            problem = _compare_states(batch)
            if problem:
                return StateVerification(checked, problem)
            checked += len(batch)
            batch = []
    if batch:
        problem = _compare_states(batch)
        if problem:
            return StateVerification(checked, problem)
        checked += len(batch)
    return StateVerification(checked)


class _StateRow(NamedTuple):
    """What ConsentState holds for one (resident, purpose, category), as the policy reads it."""

    status: str
    terms_id: int
    event_id: int
    changed_at: datetime
    expires_at: datetime | None


def _compare_states(users: list[tuple[int, UUID]]) -> str | None:
    from consent.models import ConsentState

    resident_of = {pseudonym: pk for pk, pseudonym in users}
    expected = _replayed_states(resident_of)
    states = ConsentState.objects.filter(resident_id__in=list(resident_of.values()))
    actual = {
        (row[0], row[1], row[2]): _StateRow(*row[3:])
        for row in states.values_list(
            "resident_id",
            "purpose__code",
            "category__code",
            "status",
            "terms_id",
            "event_id",
            "changed_at",
            "expires_at",
        )
    }
    if expected == actual:
        return None
    key = sorted(set(expected) ^ set(actual) or {k for k in expected if expected[k] != actual[k]})[
        0
    ]
    return (
        f"the consent state of resident #{key[0]} for {key[1]}/{key[2]} is "
        f"{_described(actual.get(key))} but the ledger says {_described(expected.get(key))}"
    )


def _replayed_states(resident_of: Mapping[UUID, int]) -> dict[tuple[int, str, str], _StateRow]:
    """The states these residents' events lead to, each field derived as services._record
    derives it: a grant under terms with a validity expires that many days after it."""
    valid_days = dict(ConsentTerms.objects.values_list("pk", "valid_days"))
    expected: dict[tuple[int, str, str], _StateRow] = {}
    events = (
        ConsentEvent.objects.filter(subject_pseudonym__in=list(resident_of))
        .order_by("id")
        .values_list(
            "id",
            "subject_pseudonym",
            "purpose_code",
            "category_codes",
            "kind",
            "terms_id",
            "occurred_at",
        )
    )
    for event_id, pseudonym, purpose, categories, kind, terms_id, occurred_at in events:
        days = valid_days[terms_id]
        expires_at = (
            occurred_at + timedelta(days=days) if kind == EventKind.GRANT and days else None
        )
        row = _StateRow(STATUS_AFTER_EVENT[kind], terms_id, event_id, occurred_at, expires_at)
        for category in categories:
            expected[(resident_of[pseudonym], purpose, category)] = row
    return expected


def _described(row: _StateRow | None) -> str:
    if row is None:
        return "absent"
    expires = _utc_iso(row.expires_at) if row.expires_at else "never"
    return (
        f"{row.status} (terms #{row.terms_id}, event #{row.event_id}, "
        f"changed {_utc_iso(row.changed_at)}, expires {expires})"
    )


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
