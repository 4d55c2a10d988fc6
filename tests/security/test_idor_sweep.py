"""No resident can see, export or change another resident's data through an id in a URL.

Every URL of the portal's own apps that takes an id is listed in OBJECT_OF_ANOTHER_RESIDENT;
a test fails when a new one is added without being listed here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from consent import policy
from consent.flows import CounterRequest, counter_consent_record
from consent.services import paper_form_batch_issue
from portal.demo.notices import demo_pdf
from portal.notices.models import SchoolStaffMembership
from portal.notices.services import (
    NoticeDraft,
    Targeting,
    notice_approve,
    notice_attach,
    notice_create,
)
from portal.residents import services as profile_services
from tests.factories import DistrictFactory, SchoolFactory, StaffFactory, UserFactory
from tests.helpers import grant, terms_of

pytestmark = pytest.mark.django_db

OWN_NAMESPACES = {"me", "consent", "consent_staff", "letters", "notices", "for_you"}
ID_CONVERTERS = ("int", "uuid", "slug", "path", "str")


def victim_place(victim) -> dict[str, Any]:
    grant(victim, "disaster_warnings", "places")
    place = profile_services.place_add(
        resident_id=victim.pk, kind="home", area_code=DistrictFactory.create().code
    )
    return {"place_id": place.pk}


def victim_child(victim) -> dict[str, Any]:
    grant(victim, "school_letters", "household")
    child = profile_services.child_add(
        resident_id=victim.pk, school_code=SchoolFactory.create().code, grade=1
    )
    return {"child_id": child.pk}


def victim_receipt(victim) -> dict[str, Any]:
    return {"public_id": grant(victim, "personalised_home", "interests").public_id}


def victim_paper_form(victim) -> dict[str, Any]:
    batch = paper_form_batch_issue(officer=StaffFactory.create(), size=1, issued_to="City hall")
    form = counter_consent_record(
        staff=StaffFactory.create(roles=["counter_clerk"]),
        request=CounterRequest(
            paper_form_reference=batch.forms.get().reference,
            email=victim.email,
            terms=terms_of("disaster_warnings"),
            category_codes=["places"],
            withdraw=False,
        ),
    )
    return {"reference": form.reference}


def victim_letter(victim) -> dict[str, Any]:
    """A letter meant for the victim's child: another parent must not even learn it exists."""
    return {"pk": letter_for(victim).pk}


def victim_letter_attachment(victim) -> dict[str, Any]:
    letter = letter_for(victim)
    return {"pk": letter.pk, "attachment_id": letter.attachments.get().pk}


def letter_for(victim) -> Any:
    school = SchoolFactory.create()
    grant(victim, "school_letters", "household")
    profile_services.child_add(resident_id=victim.pk, school_code=school.code, grade=4)
    teacher = StaffFactory.create(roles=["school_staff"])
    SchoolStaffMembership.objects.create(user=teacher, school=school)
    letter = notice_create(
        author=teacher,
        draft=NoticeDraft(
            category="school",
            title_ja="遠足のお知らせ",
            school_code=school.code,
            is_public=False,
            requires_acknowledgement=True,
            targeting=Targeting(school_audiences=[(school.code, 4)]),
        ),
    )
    notice_attach(
        editor=teacher,
        notice_id=letter.pk,
        upload=SimpleUploadedFile("letter.pdf", demo_pdf(), content_type="application/pdf"),
    )
    notice_approve(approver=teacher, notice_id=letter.pk)
    return letter


def victim_feed_notice(victim) -> dict[str, Any]:
    """A notice aimed at the victim's area alone, ranked into their feed: another resident must
    neither open it from their own list nor act on it."""
    from recommendations.services import feeds_rescore
    from tests.factories import NoticeFactory

    district = DistrictFactory.create()
    grant(victim, "personalised_home", "places", "interactions")
    profile_services.place_add(resident_id=victim.pk, kind="home", area_code=district.code)
    notice = NoticeFactory.create(is_public=False, title_ja="被害者の地区だけの通知")
    notice.areas.add(district)
    feeds_rescore(id_range=(victim.pk, victim.pk))
    return {"pk": notice.pk}


def victim_feed_action(victim) -> dict[str, Any]:
    return {**victim_feed_notice(victim), "action": "save"}


# Each URL with the methods it answers: removing a place or child is asked (GET), then done (POST).
OBJECT_OF_ANOTHER_RESIDENT: dict[str, tuple[Callable[[Any], dict[str, Any]], tuple[str, ...]]] = {
    "me:place_remove": (victim_place, ("get", "post")),
    "me:child_remove": (victim_child, ("get", "post")),
    "consent:receipt": (victim_receipt, ("get",)),
    "consent:receipt_json": (victim_receipt, ("get",)),
    "consent:dispute": (victim_paper_form, ("get", "post")),
    "letters:letter": (victim_letter, ("get",)),
    "letters:acknowledge": (victim_letter, ("post",)),
    "letters:attachment": (victim_letter_attachment, ("get",)),
    # The public notice pages never open a letter meant for someone's child, nor its files.
    "notices:detail": (victim_letter, ("get",)),
    "notices:attachment": (victim_letter_attachment, ("get",)),
    "for_you:notice": (victim_feed_notice, ("get",)),
    "for_you:action": (victim_feed_action, ("post",)),
}
# Staff pages whose id is not a resident's object; tests/security/test_staff_sweep.py shows
# that residents (and staff without the permission) are refused them.
STAFF_PAGES_WITH_IDS = {"consent_staff:register_batch"}
# URLs whose parameter is a catalogue code, not a resident's object.
CATALOGUE_PARAMETERS = {"category", "purpose", "section"}


def id_taking_url_names() -> Iterator[str]:
    def walk(patterns: list[Any], namespace: str | None) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace in OWN_NAMESPACES:
                parameters = set(pattern.pattern.converters) - CATALOGUE_PARAMETERS
                if parameters:
                    yield f"{namespace}:{pattern.name}"

    yield from walk(get_resolver().url_patterns, None)


def test_every_url_that_takes_an_id_is_in_the_sweep() -> None:
    assert set(id_taking_url_names()) - STAFF_PAGES_WITH_IDS <= set(OBJECT_OF_ANOTHER_RESIDENT)


@pytest.mark.parametrize(
    ("url_name", "method"),
    [
        (url_name, method)
        for url_name, (_make, methods) in sorted(OBJECT_OF_ANOTHER_RESIDENT.items())
        for method in methods
    ],
)
def test_another_residents_object_is_not_found(client, url_name, method) -> None:
    make_object, _methods = OBJECT_OF_ANOTHER_RESIDENT[url_name]
    victim, attacker = UserFactory.create(), UserFactory.create()
    kwargs = make_object(victim)
    before = _everything_of(victim.pk)
    client.force_login(attacker)

    response = getattr(client, method)(reverse(url_name, kwargs=kwargs))

    assert response.status_code == 404
    assert _everything_of(victim.pk) == before
    assert victim.email not in response.content.decode()


def test_the_export_holds_only_the_logged_in_residents_data(client) -> None:
    victim, attacker = UserFactory.create(), UserFactory.create()
    victim_place(victim)
    victim_receipt(victim)
    client.force_login(attacker)
    body = client.get(reverse("me:export")).content.decode()
    assert victim.email not in body
    assert str(victim.pseudonym) not in body


def _everything_of(resident_id: int) -> policy.ProfileProjection:
    return policy.read_own_data(resident_id=resident_id)
