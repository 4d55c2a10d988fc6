"""The hash chain of the consent ledger: appending an event and verifying the whole chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db import transaction

from consent.models import ConsentEvent, ConsentTerms, LedgerHead

GENESIS_HASH = "0" * 64


def canonical_json(data: Mapping[str, Any]) -> bytes:
    """One byte string per value: sorted keys, no whitespace, UTF-8."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(data: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()


def event_payload(event: ConsentEvent, *, terms_hash: str) -> dict[str, Any]:
    """Every field of an event that its hash covers (all but the id and the hashes)."""
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
    event.save()
    head.last_hash = event.hash
    head.event_count += 1
    head.save(update_fields=["last_hash", "event_count"])
    return event


@dataclass(frozen=True)
class ChainVerification:
    verified: int
    first_bad_event_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify_chain(*, batch_size: int = 5000) -> ChainVerification:
    """Recompute every event's hash in order; report the first event that does not match."""
    terms_hashes = dict(ConsentTerms.objects.values_list("id", "content_hash"))
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
        expected_previous = event.hash
        verified += 1
    head = LedgerHead.objects.filter(singleton=1).first()
    if head is not None and head.last_hash != expected_previous:
        return ChainVerification(
            verified, None, "the chain ends before the recorded head: events were removed"
        )
    return ChainVerification(verified)


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
