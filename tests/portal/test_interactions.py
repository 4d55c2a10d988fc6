"""Interaction history: what a resident did with a notice is stored only while they share it,
is read for a purpose only through the consent gate, and is erased when they stop sharing it."""

from __future__ import annotations

import json

import pytest

from consent import policy
from consent.catalogue import Category, PurposeCode, RecipientCode
from consent.models import DataUseEvent
from portal.residents import services
from portal.residents.services import InteractionKind, ProfileError
from tests.factories import NoticeFactory, UserFactory
from tests.helpers import grant, withdraw

pytestmark = pytest.mark.django_db

READER = policy.Reader(kind="task", name="test", recipient=RecipientCode.CITY)


@pytest.fixture
def sharing() -> object:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "interactions")
    return resident


def own_interactions(resident) -> tuple[policy.InteractionView, ...]:
    return policy.read_own_data(resident_id=resident.pk).interactions


def test_opening_saving_and_setting_aside_are_stored_while_shared(sharing) -> None:
    notice = NoticeFactory.create()
    for kind in (InteractionKind.OPENED, InteractionKind.SAVED, InteractionKind.DISMISSED):
        assert services.interaction_record(resident_id=sharing.pk, notice_id=notice.pk, kind=kind)

    (interaction,) = own_interactions(sharing)

    assert interaction.notice_id == notice.pk
    assert interaction.opened_at and interaction.saved_at and interaction.dismissed_at


def test_unsaving_and_undismissing_clear_what_they_set(sharing) -> None:
    notice = NoticeFactory.create()
    for kind in ("saved", "dismissed", "unsaved", "undismissed"):
        services.interaction_record(resident_id=sharing.pk, notice_id=notice.pk, kind=kind)

    (interaction,) = own_interactions(sharing)

    assert interaction.saved_at is None and interaction.dismissed_at is None


def test_opening_again_keeps_the_first_time(sharing) -> None:
    notice = NoticeFactory.create()
    services.interaction_record(resident_id=sharing.pk, notice_id=notice.pk, kind="opened")
    first = own_interactions(sharing)[0].opened_at

    services.interaction_record(resident_id=sharing.pk, notice_id=notice.pk, kind="opened")

    assert own_interactions(sharing)[0].opened_at == first


def test_nothing_is_stored_without_consent_to_interaction_history() -> None:
    resident = UserFactory.create()
    grant(resident, "personalised_home", "interests")
    notice = NoticeFactory.create()

    stored = services.interaction_record(resident_id=resident.pk, notice_id=notice.pk, kind="saved")
    shown = services.interactions_shown(resident_id=resident.pk, notice_ids=[notice.pk])

    assert (stored, shown) == (False, False)
    assert own_interactions(resident) == ()


def test_an_unknown_kind_of_interaction_is_refused(sharing) -> None:
    notice = NoticeFactory.create()

    with pytest.raises(ProfileError):
        services.interaction_record(resident_id=sharing.pk, notice_id=notice.pk, kind="liked")

    assert own_interactions(sharing) == ()


def test_each_showing_counts_once_per_notice_and_keeps_the_first_time(sharing) -> None:
    first, second = NoticeFactory.create(), NoticeFactory.create()
    services.interactions_shown(resident_id=sharing.pk, notice_ids=[first.pk, second.pk])
    first_time = {i.notice_id: i.first_shown_at for i in own_interactions(sharing)}

    services.interactions_shown(resident_id=sharing.pk, notice_ids=[first.pk, first.pk])

    shown = {i.notice_id: (i.shown_count, i.first_shown_at) for i in own_interactions(sharing)}
    assert shown == {first.pk: (2, first_time[first.pk]), second.pk: (1, first_time[second.pk])}


def test_stopping_sharing_erases_the_interaction_history(sharing) -> None:
    notice = NoticeFactory.create()
    services.interaction_record(resident_id=sharing.pk, notice_id=notice.pk, kind="saved")

    withdraw(sharing, category=Category.INTERACTIONS)

    assert own_interactions(sharing) == ()


def test_a_purpose_reads_interactions_only_through_the_gate_and_the_read_is_logged(
    sharing,
) -> None:
    notice = NoticeFactory.create()
    services.interaction_record(resident_id=sharing.pk, notice_id=notice.pk, kind="opened")

    seen = policy.read_profile(
        resident_id=sharing.pk,
        purpose=PurposeCode.PERSONALISED_HOME,
        reader=READER,
        categories=[Category.INTERACTIONS],
    )

    assert [i.notice_id for i in seen.interactions] == [notice.pk]
    use = DataUseEvent.objects.get(resident=sharing)
    assert use.category_codes == [Category.INTERACTIONS]


def test_a_purpose_the_resident_did_not_share_interactions_for_sees_none(sharing) -> None:
    notice = NoticeFactory.create()
    services.interaction_record(resident_id=sharing.pk, notice_id=notice.pk, kind="opened")

    seen = policy.read_profile(
        resident_id=sharing.pk,
        purpose=PurposeCode.DISASTER_WARNINGS,
        reader=READER,
        categories=[Category.PLACES],
    )

    assert seen.interactions == ()


def test_the_range_read_carries_interactions_as_columns(sharing) -> None:
    notice = NoticeFactory.create()
    services.interaction_record(resident_id=sharing.pk, notice_id=notice.pk, kind="saved")

    (chunk,) = policy.iter_profile_chunks(
        purpose=PurposeCode.PERSONALISED_HOME,
        reader=READER,
        categories=[Category.INTERACTIONS],
        id_range=(sharing.pk, sharing.pk),
    )

    assert chunk.interaction_notice_ids == [notice.pk]
    assert chunk.interaction_saved_at is not None and chunk.interaction_saved_at[0] is not None


def test_my_data_counts_the_interactions_and_the_export_lists_them(client, sharing) -> None:
    notice = NoticeFactory.create()
    services.interaction_record(resident_id=sharing.pk, notice_id=notice.pk, kind="saved")
    client.force_login(sharing)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    html = client.get("/me/").content.decode()
    document = json.loads(client.get("/me/data.json").content.decode("utf-8"))

    assert "Notices you saved" in html
    assert document["interactions"][0]["notice_id"] == notice.pk
    assert document["interactions"][0]["saved_at"] is not None
