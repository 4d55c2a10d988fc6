"""The notice lifecycle: every allowed change of state, in one place.

    draft ──submit──▶ in review ──approve──▶ approved ──publish──▶ published ──expire──▶ expired
      ▲                  │                      (scheduled)            │
      └────send back─────┘                                             ├──withdraw──▶ withdrawn
    draft / in review ──emergency publish (disaster officer)──▶ published
    draft ──approve own letter (school staff)──▶ approved          └──supersede──▶ superseded
    approved ──withdraw──▶ withdrawn
    draft ──ingest (a feed's document)──▶ approved ──publish──▶ published
    published ──cancelled by its source──▶ withdrawn;  ──lifted by its source──▶ expired

Services (portal/notices/services.py) carry out a transition only if it is listed here; the
table is also what the console asks to know which buttons to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.notices.models import NoticeEvent, Status

Action = NoticeEvent.Action


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Action.SUBMITTED, Status.DRAFT, Status.IN_REVIEW),
    Transition(Action.SENT_BACK, Status.IN_REVIEW, Status.DRAFT),
    Transition(Action.APPROVED, Status.IN_REVIEW, Status.APPROVED),
    # A school's own letter: its staff schedule it without the city's review.
    Transition(Action.APPROVED, Status.DRAFT, Status.APPROVED),
    Transition(Action.PUBLISHED, Status.APPROVED, Status.PUBLISHED),
    Transition(Action.EMERGENCY_PUBLISHED, Status.DRAFT, Status.PUBLISHED),
    Transition(Action.EMERGENCY_PUBLISHED, Status.IN_REVIEW, Status.PUBLISHED),
    Transition(Action.WITHDRAWN, Status.APPROVED, Status.WITHDRAWN),
    Transition(Action.WITHDRAWN, Status.PUBLISHED, Status.WITHDRAWN),
    Transition(Action.EXPIRED, Status.PUBLISHED, Status.EXPIRED),
    # A feed's document was approved where it was written (JMA, a CAP authority, the city's
    # own news feed); the source cancels or lifts what it issued.
    Transition(Action.INGESTED, Status.DRAFT, Status.APPROVED),
    Transition(Action.CANCELLED, Status.PUBLISHED, Status.WITHDRAWN),
    Transition(Action.LIFTED, Status.PUBLISHED, Status.EXPIRED),
    Transition(Action.SUPERSEDED, Status.PUBLISHED, Status.SUPERSEDED),
    Transition(Action.SUPERSEDED, Status.APPROVED, Status.SUPERSEDED),
)

# Where a notice can still be edited (and re-submitted).
EDITABLE = frozenset({Status.DRAFT})
# What residents may see.
VISIBLE = frozenset({Status.PUBLISHED})
# Nothing leaves these.
FINAL = frozenset({Status.EXPIRED, Status.WITHDRAWN, Status.SUPERSEDED})


class TransitionNotAllowed(Exception):
    def __init__(self, action: str, status: str) -> None:
        self.action = action
        self.status = status
        super().__init__(f"a notice that is {status!r} cannot be {action!r}")


def transition_for(action: str, status: str) -> Transition:
    for transition in TRANSITIONS:
        if transition.action == action and transition.source == status:
            return transition
    raise TransitionNotAllowed(action, status)


def actions_from(status: str) -> frozenset[str]:
    return frozenset(t.action for t in TRANSITIONS if t.source == status)
