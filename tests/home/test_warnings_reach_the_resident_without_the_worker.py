"""Review (attack): warnings and emergencies on the home page when the stored feed cannot help
(no feed yet, worker down) or after the resident set one aside from their list."""

from __future__ import annotations

import pytest

from portal.residents import services as profile_services
from recommendations.services import feeds_rescore
from tests.factories import DistrictFactory, NoticeFactory, UserFactory
from tests.helpers import grant

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_pages")]


def test_a_warning_for_the_residents_area_aimed_also_by_age_reaches_the_banner_without_a_feed(
    client,
) -> None:
    """An evacuation warning for the elderly of a district: a resident of the district who
    shares their places for disaster warnings has no stored feed (worker down). The banner
    leaves out every warning also aimed by age, interest or school, and nothing else shows it."""
    district = DistrictFactory.create()
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    warning = NoticeFactory.create(
        category="disaster", urgency="emergency", title_ja="高齢者等避難", age_bands=["70-79"]
    )
    warning.areas.add(district)
    client.force_login(resident)

    assert "高齢者等避難" in client.get("/").content.decode()
    assert "高齢者等避難" in client.get("/home/urgent/").content.decode()


def test_an_emergency_for_the_residents_area_cannot_be_set_aside_from_their_list(client) -> None:
    """A resident who shares places for the home page only (not for disaster warnings) sees an
    emergency for their area in their list and nowhere else; "Not interested" must not hide it
    (it is offered, and it takes the emergency out of the feed and every later rescore)."""
    district = DistrictFactory.create()
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places", "interactions")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    emergency = NoticeFactory.create(category="disaster", urgency="emergency", title_ja="避難指示")
    emergency.areas.add(district)
    feeds_rescore(id_range=(resident.pk, resident.pk))
    client.force_login(resident)

    client.post(f"/for-you/{emergency.pk}/dismiss/")
    feeds_rescore(id_range=(resident.pk, resident.pk))

    assert "避難指示" in client.get("/").content.decode()
