"""What a school sees of a letter that asks for acknowledgement: how many of the families it is
meant for have confirmed reading it, and which have not, to follow up on paper.

The families are found through the consent gate, for "school letters for my children" read on
behalf of the board of education: only parents whose consent names the board as a recipient
are read (and each read is in their data-use log), so a parent who shares their household with
the city alone is neither counted nor listed. Counts are rounded as audience estimates are
(portal/notices/audience.py); the list of households that have not confirmed is the follow-up
the parents' consent allows the board, so it names each by its account's email address and the
grade of the child the letter reached.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_noop

from consent import policy
from consent.catalogue import Category, PurposeCode, RecipientCode
from consent.selectors import resident_id_ranges
from portal.models import User
from portal.notices.audience import AudienceEstimate
from portal.notices.models import Acknowledgement, Notice, Status

READER_NAME = gettext_noop("a school finding the families its letter reached, to follow it up")


@dataclass(frozen=True)
class Household:
    email: str
    grades: tuple[int, ...]


@dataclass(frozen=True)
class LetterFollowUp:
    reached: AudienceEstimate
    confirmed: AudienceEstimate
    not_confirmed: tuple[Household, ...]


def letter_follow_up(*, letter: Notice, staff: User) -> LetterFollowUp:
    if letter.status != Status.PUBLISHED:
        raise ValueError("only a published letter has families to follow up")
    audiences = _audiences(letter)
    reader = policy.Reader(
        kind="staff",
        name=READER_NAME,
        recipient=RecipientCode.BOARD_OF_EDUCATION,
        staff_id=staff.pk,
    )
    grades_of: dict[int, set[int]] = {}
    for low, high in resident_id_ranges(purpose=PurposeCode.SCHOOL_LETTERS, size=5000):
        for chunk in policy.iter_profile_chunks(
            purpose=PurposeCode.SCHOOL_LETTERS,
            reader=reader,
            categories=[Category.HOUSEHOLD],
            id_range=(low, high),
        ):
            for row, school_id, grade in zip(
                chunk.child_resident_index or (),
                chunk.child_school_ids or (),
                chunk.child_grades or (),
                strict=True,
            ):
                if (school_id, grade) in audiences or (school_id, None) in audiences:
                    grades_of.setdefault(chunk.resident_ids[row], set()).add(grade)
    confirmed = set(
        Acknowledgement.objects.filter(notice=letter, resident_id__in=grades_of).values_list(
            "resident_id", flat=True
        )
    )
    waiting = sorted(set(grades_of) - confirmed)
    emails = dict(User.objects.filter(pk__in=waiting).values_list("pk", "email"))
    return LetterFollowUp(
        reached=AudienceEstimate.of(len(grades_of)),
        confirmed=AudienceEstimate.of(len(confirmed)),
        not_confirmed=tuple(
            Household(email=emails[resident_id], grades=tuple(sorted(grades_of[resident_id])))
            for resident_id in waiting
            if resident_id in emails
        ),
    )


def _audiences(letter: Notice) -> set[tuple[int, int | None]]:
    audiences: set[tuple[int, int | None]] = {
        (audience.school_id, audience.grade) for audience in letter.school_audiences.all()
    }
    if not audiences and letter.school_id is not None:
        audiences.add((letter.school_id, None))
    return audiences
