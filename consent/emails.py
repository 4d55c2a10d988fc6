"""Emails the consent app sends: the notice that a paper form was recorded at the counter.

Each email carries Japanese first and English after it: the account keeps no language choice,
and a resident must be able to read at once what was recorded in their name.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from consent.models import CounterDispute, PaperForm
from consent.selectors import counter_events, data_categories, purpose_by_code
from portal.models import User

LANGUAGES_OF_AN_EMAIL = ("ja", "en")


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


def counter_notice_send(*, paper_form_id: int, unmatched_address: str = "") -> bool:
    """Send the notice for a used paper form; False if there is nobody to tell any more."""
    form = PaperForm.objects.filter(pk=paper_form_id).first()
    if form is None:
        return False
    email = counter_notice(form=form, unmatched_address=unmatched_address)
    if email is None:
        return False
    send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.to])
    return True


def counter_notice(*, form: PaperForm, unmatched_address: str = "") -> Email | None:
    if form.subject_pseudonym is not None:
        resident = User.objects.filter(pseudonym=form.subject_pseudonym, is_active=True).first()
        if resident is None:  # the account was closed before the email went out
            return None
        return _bilingual(to=resident.email, template="counter_recorded", form=form)
    if unmatched_address:
        return _bilingual(to=unmatched_address, template="counter_unmatched", form=form)
    return None


def dispute_answer_send(*, dispute_id: int) -> bool:
    """Send a consent officer's answer to the resident who disputed a paper form."""
    dispute = CounterDispute.objects.select_related("paper_form").filter(pk=dispute_id).first()
    if dispute is None or dispute.resolved_at is None:
        return False
    pseudonym = dispute.paper_form.subject_pseudonym
    resident = (
        User.objects.filter(pseudonym=pseudonym, is_active=True).first() if pseudonym else None
    )
    if resident is None:
        return False
    email = _bilingual(
        to=resident.email,
        template="dispute_answered",
        form=dispute.paper_form,
        extra={"dispute": dispute},
    )
    send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.to])
    return True


def _bilingual(
    *, to: str, template: str, form: PaperForm, extra: dict[str, object] | None = None
) -> Email:
    subjects, bodies = [], []
    for language in LANGUAGES_OF_AN_EMAIL:
        with translation.override(language):
            context = {**_context(form), **(extra or {})}
            subjects.append(
                render_to_string(f"consent/email/{template}_subject.txt", context).strip()
            )
            bodies.append(render_to_string(f"consent/email/{template}_message.txt", context))
    return Email(
        to=to,
        subject=f"[{settings.SITE_NAME}] " + " / ".join(subjects),
        body="\n\n----------------------------------------\n\n".join(b.strip() for b in bodies),
    )


def _context(form: PaperForm) -> dict[str, object]:
    purpose = purpose_by_code(code=form.purpose_code)
    return {
        "form": form,
        "site_name": settings.SITE_NAME,
        "purpose": purpose.name if purpose else form.purpose_code,
        "categories": [c.name for c in data_categories(codes=form.category_codes)],
        "receipts": [
            settings.SITE_URL + reverse("consent:receipt", args=[event.public_id])
            for event in counter_events(paper_form=form)
        ],
        "dispute_url": settings.SITE_URL + reverse("consent:dispute", args=[form.reference]),
        "consent_url": settings.SITE_URL + reverse("consent:overview"),
        "hold_days": settings.COUNTER_WITHDRAWAL_HOLD_DAYS,
        "signup_url": settings.SITE_URL + reverse("account_signup"),
    }
