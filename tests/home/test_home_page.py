"""The home page: the "for you" list from the stored feed with why each notice is there, save
and "not interested", the live warnings banner, the snow and school cards; signed out, the
city's latest news. Nothing on it is scored while the resident waits."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from portal.home.services import visit_mark
from portal.models import OutboxTask, ResidentInteraction
from portal.residents import services as profile_services
from portal.snow.models import AreaPlowStatus
from recommendations.selectors import notice_engagement, stored_feed
from recommendations.services import feeds_rescore
from tests.factories import (
    DistrictFactory,
    NoticeFactory,
    SchoolFactory,
    ShelterFactory,
    UserFactory,
)
from tests.helpers import grant, withdraw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_pages")]


def resident_of(district, *categories: str):
    resident = UserFactory.create()
    grant(resident, "personalised_home", "places", *categories)
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    return resident


def ranked(resident) -> None:
    feeds_rescore(id_range=(resident.pk, resident.pk))


def home_of(client, resident) -> str:
    client.force_login(resident)
    return client.get("/").content.decode()


def test_a_resident_sees_a_notice_for_their_area_with_why_naming_the_area_and_the_day() -> None:
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    district = DistrictFactory.create(name_ja="北会津", name_en="Kitaaizu")
    resident = resident_of(district)
    notice = NoticeFactory.create(title_ja="北会津の道路工事", is_public=False)
    notice.areas.add(district)
    ranked(resident)
    day = timezone.localdate().strftime("%B %-d")

    html = home_of(client, resident)

    assert "北会津の道路工事" in html
    assert "Why this?" in html
    assert (
        f"It is for Kitaaizu, where one of your places is (you chose to share your places for "
        f"your home page on {day})." in html
    )


def test_a_narrowed_consent_takes_the_list_ranked_from_it_away_before_the_rescore(
    client,
) -> None:
    district = DistrictFactory.create(name_en="Kitaaizu")
    resident = resident_of(district, "interests")
    notice = NoticeFactory.create(title_ja="北会津のお知らせ")
    notice.areas.add(district)
    ranked(resident)

    withdraw(resident, category="places")  # the rescore is queued, not run
    html = home_of(client, resident)

    assert stored_feed(resident_id=resident.pk) == []
    assert "where one of your places is" not in html and "北会津のお知らせ" not in html
    assert "the same for everyone" in html


def test_removing_a_place_takes_the_list_ranked_from_it_away_before_the_rescore() -> None:
    district = DistrictFactory.create()
    resident = resident_of(district)
    ranked(resident)
    place = profile_services.place_add(
        resident_id=resident.pk, kind="work", area_code=DistrictFactory.create().code
    )
    ranked(resident)
    NoticeFactory.create()
    ranked(resident)
    assert stored_feed(resident_id=resident.pk)

    profile_services.place_remove(resident_id=resident.pk, place_id=place.pk)

    assert stored_feed(resident_id=resident.pk) == []


def test_saving_a_notice_keeps_the_list_while_the_rescore_runs(client) -> None:
    resident = resident_of(DistrictFactory.create(), "interactions")
    notice = NoticeFactory.create()
    ranked(resident)
    client.force_login(resident)

    client.post(f"/for-you/{notice.pk}/save/")

    assert [item.notice_id for item in stored_feed(resident_id=resident.pk)] == [notice.pk]


def test_a_resident_who_shares_nothing_for_the_home_page_sees_the_citys_latest_news(
    client,
) -> None:
    NoticeFactory.create(title_ja="市からのお知らせ")
    district = DistrictFactory.create()
    aimed = NoticeFactory.create(title_ja="ある地区だけのお知らせ")
    aimed.areas.add(district)

    html = home_of(client, UserFactory.create())

    assert "市からのお知らせ" in html
    assert "ある地区だけのお知らせ" not in html
    assert "the same for everyone" in html


def test_a_visitor_sees_the_citys_latest_news_and_no_list_of_their_own(client) -> None:
    NoticeFactory.create(title_ja="市からのお知らせ")

    html = client.get("/").content.decode()

    assert "Latest from the city" in html and "市からのお知らせ" in html
    assert 'id="for-you"' not in html


def test_the_home_page_shows_the_first_notices_and_more_shows_the_rest(client) -> None:
    resident = resident_of(DistrictFactory.create())
    notices = [
        NoticeFactory.create(
            title_ja=f"お知らせ番号{n:02d}", published_at=timezone.now() - timedelta(hours=n)
        )
        for n in range(12)
    ]
    ranked(resident)

    home = home_of(client, resident)
    everything = client.get("/for-you/").content.decode()
    more = client.get("/for-you/", HTTP_HX_REQUEST="true").content.decode()

    shown = [n for n in notices if n.title_ja in home]
    assert len(shown) == 8
    assert 'href="/for-you/"' in home
    assert all(n.title_ja in everything for n in notices)
    assert {n.title_ja for n in notices if n.title_ja in more} == {
        n.title_ja for n in notices if n not in shown
    }


def test_with_exactly_the_first_notices_stored_the_home_page_offers_no_more(client) -> None:
    resident = resident_of(DistrictFactory.create())
    notices = [
        NoticeFactory.create(
            title_ja=f"お知らせ番号{n:02d}", published_at=timezone.now() - timedelta(hours=n)
        )
        for n in range(8)
    ]
    ranked(resident)

    home = home_of(client, resident)

    assert all(notice.title_ja in home for notice in notices)
    assert 'href="/for-you/"' not in home


def test_saving_without_javascript_keeps_it_marked_and_counts_it_anonymously(client) -> None:
    resident = resident_of(DistrictFactory.create(), "interactions")
    notice = NoticeFactory.create()
    ranked(resident)
    client.force_login(resident)

    response = client.post(f"/for-you/{notice.pk}/save/", {"from": "home"})

    assert response.status_code == 302 and response["Location"] == "/"
    assert ResidentInteraction.objects.get(resident=resident, notice=notice).saved_at
    assert notice_engagement(notice_id=notice.pk).saved == 1
    assert "Saved" in client.get("/").content.decode()


def test_not_interested_takes_the_notice_off_the_list_at_once_and_queues_a_rescore(
    client,
) -> None:
    resident = resident_of(DistrictFactory.create(), "interactions")
    dull, other = NoticeFactory.create(title_ja="つまらない"), NoticeFactory.create()
    ranked(resident)
    client.force_login(resident)
    OutboxTask.objects.all().delete()

    response = client.post(f"/for-you/{dull.pk}/dismiss/", HTTP_HX_REQUEST="true")

    assert "Hidden" in response.content.decode()
    assert [item.notice_id for item in stored_feed(resident_id=resident.pk)] == [other.pk]
    assert OutboxTask.objects.filter(task_name="recommendations.rescore_resident").exists()
    ranked(resident)  # what the queued rescore does
    assert dull.pk not in [item.notice_id for item in stored_feed(resident_id=resident.pk)]


def test_not_interested_can_be_undone(client) -> None:
    resident = resident_of(DistrictFactory.create(), "interactions")
    notice = NoticeFactory.create()
    ranked(resident)
    client.force_login(resident)
    client.post(f"/for-you/{notice.pk}/dismiss/")

    response = client.post(f"/for-you/{notice.pk}/undismiss/")
    ranked(resident)

    assert response.status_code == 302
    assert ResidentInteraction.objects.get(resident=resident, notice=notice).dismissed_at is None
    assert [item.notice_id for item in stored_feed(resident_id=resident.pk)] == [notice.pk]


def test_without_sharing_history_saving_changes_nothing_and_says_why(client) -> None:
    resident = resident_of(DistrictFactory.create())
    notice = NoticeFactory.create()
    ranked(resident)
    client.force_login(resident)

    response = client.post(f"/for-you/{notice.pk}/dismiss/", follow=True)

    assert "Nothing was changed" in response.content.decode()
    assert not ResidentInteraction.objects.exists()
    assert notice_engagement(notice_id=notice.pk).dismissed == 0
    assert [item.notice_id for item in stored_feed(resident_id=resident.pk)] == [notice.pk]


def test_without_sharing_history_the_list_offers_no_save_button(client) -> None:
    resident = resident_of(DistrictFactory.create())
    NoticeFactory.create()
    ranked(resident)

    assert "Not interested" not in home_of(client, resident)


def test_an_unknown_action_is_not_found(client) -> None:
    resident = resident_of(DistrictFactory.create(), "interactions")
    notice = NoticeFactory.create()
    ranked(resident)
    client.force_login(resident)

    assert client.post(f"/for-you/{notice.pk}/delete/").status_code == 404
    assert not ResidentInteraction.objects.filter(saved_at__isnull=False).exists()


def test_actions_refuse_get(client) -> None:
    resident = resident_of(DistrictFactory.create(), "interactions")
    notice = NoticeFactory.create()
    ranked(resident)
    client.force_login(resident)

    assert client.get(f"/for-you/{notice.pk}/save/").status_code == 405


def test_opening_a_notice_aimed_at_the_resident_alone_shows_it_and_why(client) -> None:
    district = DistrictFactory.create(name_en="Kitaaizu")
    resident = resident_of(district, "interactions")
    notice = NoticeFactory.create(title_ja="地区の方へ", body_ja="詳しい本文", is_public=False)
    notice.areas.add(district)
    ranked(resident)
    client.force_login(resident)

    html = client.get(f"/for-you/{notice.pk}/").content.decode()

    assert "詳しい本文" in html, html[html.find("<main") :]
    assert "It is for Kitaaizu, where one of your places is" in html, html[
        html.find("why-title") :
    ][:800]
    assert ResidentInteraction.objects.get(resident=resident, notice=notice).opened_at
    assert notice_engagement(notice_id=notice.pk).opened == 1


def test_a_notice_not_on_the_residents_list_is_not_found(client) -> None:
    resident = resident_of(DistrictFactory.create())
    elsewhere = NoticeFactory.create(is_public=False)
    elsewhere.areas.add(DistrictFactory.create())
    ranked(resident)
    client.force_login(resident)

    assert client.get(f"/for-you/{elsewhere.pk}/").status_code == 404


def test_showing_the_list_counts_each_visit_only_for_a_resident_who_shares_history(
    client,
) -> None:
    sharing = resident_of(DistrictFactory.create(), "interactions")
    private = resident_of(DistrictFactory.create())
    notice = NoticeFactory.create()
    ranked(sharing)
    ranked(private)

    home_of(client, sharing)
    home_of(client, private)
    home_of(client, sharing)  # a reload: the same visit

    assert list(
        ResidentInteraction.objects.values_list("resident_id", "notice_id", "shown_count")
    ) == [(sharing.pk, notice.pk, 1)]


def test_a_later_visit_counts_again_in_the_history_but_not_in_the_anonymous_count(
    client,
) -> None:
    sharing = resident_of(DistrictFactory.create(), "interactions")
    notice = NoticeFactory.create()
    ranked(sharing)

    home_of(client, sharing)
    cache.delete(visit_mark(sharing.pk, notice.pk))  # the visit is over (VISIT_SECONDS later)
    home_of(client, sharing)

    assert ResidentInteraction.objects.get(resident=sharing, notice=notice).shown_count == 2
    # Counted anonymously once per resident who shares their history, however often shown.
    assert notice_engagement(notice_id=notice.pk).shown == 1


def test_the_page_never_scores_a_resident_without_a_stored_feed(client) -> None:
    resident = resident_of(DistrictFactory.create())
    NoticeFactory.create()

    home_of(client, resident)

    assert stored_feed(resident_id=resident.pk) == []


def test_the_snow_card_shows_when_the_residents_district_was_last_plowed(client) -> None:
    district = DistrictFactory.create(name_en="Kitaaizu")
    resident = resident_of(district)
    AreaPlowStatus.objects.create(area=district, last_plowed_at=timezone.now())

    html = home_of(client, resident)

    assert "Snow clearing near your places" in html
    assert "Kitaaizu" in html and "last plowed" in html


def test_the_snow_card_needs_places_shared_for_the_home_page(client) -> None:
    district = DistrictFactory.create()
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)

    assert "Snow clearing near your places" not in home_of(client, resident)


def test_the_banner_refresh_shows_a_new_warning_for_the_residents_area(client) -> None:
    district = DistrictFactory.create()
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places")
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    client.force_login(resident)
    assert "Warnings in force" not in client.get("/home/urgent/").content.decode()
    warning = NoticeFactory.create(category="disaster", urgency="warning", title_ja="洪水警報")
    warning.areas.add(district)

    response = client.get("/home/urgent/", HTTP_HX_REQUEST="true")

    assert "洪水警報" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert "<html" not in response.content.decode()


def test_the_banner_refresh_of_a_visitor_shows_only_warnings_for_everyone(client) -> None:
    district = DistrictFactory.create()
    NoticeFactory.create(category="disaster", urgency="emergency", title_ja="全域の緊急情報")
    local = NoticeFactory.create(category="disaster", urgency="warning", title_ja="地区の警報")
    local.areas.add(district)

    html = client.get("/home/urgent/").content.decode()

    assert "全域の緊急情報" in html and "地区の警報" not in html


def test_the_home_page_polls_the_banner(client, settings) -> None:
    settings.HOME_URGENT_POLL_SECONDS = 7

    html = client.get("/").content.decode()

    assert 'hx-get="/home/urgent/"' in html and 'hx-trigger="every 7s"' in html


def test_the_banner_refresh_answers_no_content_while_nothing_changed(client) -> None:
    NoticeFactory.create(category="disaster", urgency="emergency", title_ja="全域の緊急情報")
    html = client.get("/").content.decode()
    shown = html.split('name="shown" value="')[1].split('"')[0]

    same = client.get("/home/urgent/", {"shown": shown}, HTTP_HX_REQUEST="true")
    NoticeFactory.create(category="disaster", urgency="warning", title_ja="新しい警報")
    changed = client.get("/home/urgent/", {"shown": shown}, HTTP_HX_REQUEST="true")

    assert same.status_code == 204 and same.content == b""
    assert changed.status_code == 200 and "新しい警報" in changed.content.decode()


def test_not_interested_without_javascript_shows_the_list_with_what_was_hidden_and_undo(
    client,
) -> None:
    resident = resident_of(DistrictFactory.create(), "interactions")
    dull = NoticeFactory.create(title_ja="興味のないお知らせ")
    ranked(resident)
    client.force_login(resident)

    response = client.post(f"/for-you/{dull.pk}/dismiss/", {"from": "home"}, follow=True)

    html = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/for-you/?hidden={dull.pk}"
    assert "Hidden." in html and "興味のないお知らせ" in html
    assert f'action="/for-you/{dull.pk}/undismiss/"' in html


def test_the_hidden_notice_is_named_only_if_the_resident_set_it_aside(client) -> None:
    resident = resident_of(DistrictFactory.create(), "interactions")
    other = NoticeFactory.create(title_ja="他人のお知らせ", is_public=False)
    other.areas.add(DistrictFactory.create())
    ranked(resident)
    client.force_login(resident)

    html = client.get(f"/for-you/?hidden={other.pk}").content.decode()

    assert "他人のお知らせ" not in html


def test_a_warning_on_the_list_offers_no_not_interested(client) -> None:
    resident = resident_of(DistrictFactory.create(), "interactions")
    warning = NoticeFactory.create(category="disaster", urgency="warning")
    ranked(resident)
    client.force_login(resident)

    html = client.get("/").content.decode()
    refused = client.post(f"/for-you/{warning.pk}/dismiss/", follow=True)

    assert f'action="/for-you/{warning.pk}/dismiss/"' not in html
    assert "cannot be hidden" in refused.content.decode()
    assert not ResidentInteraction.objects.filter(dismissed_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)  # outside any transaction, as in production
def test_the_page_of_a_resident_using_all_of_it_takes_a_bounded_number_of_queries(
    client, django_assert_max_num_queries
) -> None:
    """Warnings with the shelters near home, the list with its forms and its "shown" write, the
    snow card and the school card: a fixed number of queries, however long the list."""
    district = DistrictFactory.create()
    resident = resident_of(district, "interactions")
    grant(resident, "disaster_warnings", "places", "location")
    grant(resident, "school_letters", "household")
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.49"), longitude=Decimal("139.93")
    )
    school = SchoolFactory.create()
    profile_services.child_add(resident_id=resident.pk, school_code=school.code, grade=2)
    ShelterFactory.create_batch(4)
    notices = NoticeFactory.create_batch(12)
    ranked(resident)
    client.force_login(resident)
    client.get("/")  # the names "why this?" points at and the city's counts are cached
    cache.delete_many([visit_mark(resident.pk, notice.pk) for notice in notices])  # a new visit

    # Session, user; the gate's one read (transaction and on PostgreSQL its isolation level,
    # terms, permission, four categories, log);
    # the grants; warnings in force; shelters; the feed (feed, additions, notices); snow; letters;
    # the staff link; the "shown" write (transaction, lock, terms, consent, upsert).
    with django_assert_max_num_queries(27):
        page = client.get("/")

    assert page.status_code == 200
