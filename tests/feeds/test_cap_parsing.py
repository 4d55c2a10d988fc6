"""CAP 1.2/1.1 alerts → one item per alert: identity, references, languages, urgency, areas,
and refusals that say what is wrong."""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.feeds.parsing.cap import cap_series, cap_version_id, parse_cap
from portal.feeds.parsing.documents import (
    AreaRef,
    Circle,
    DocumentRefused,
    Item,
    ItemAction,
    ParsedDocument,
    Polygon,
)
from portal.notices.models import Category, Urgency
from portal.notices.rendering import markdown_problems
from tests.feeds.cap_documents import (
    CAP_FIXTURES,
    alert_xml,
    area_xml,
    fixture,
    info_xml,
)

AIZU_SENDER = "bousai@city.aizuwakamatsu.example"

# What every CAP fixture makes: "items: N", "no items: <note>", "item refused: <reason>" or
# "refused: <reason>" (the document).
EXPECTED_OUTCOMES = {
    "aizu/aizu_drill_exercise.xml": "items: 1",
    "aizu/aizu_heavy_snow_alert.xml": "items: 1",
    "aizu/aizu_heavy_snow_cancel.xml": "items: 1",
    "aizu/aizu_heavy_snow_update.xml": "items: 1",
    # Negative tests of google/cap-library, each refused for the error its comment names:
    # an Update whose <references/> is empty,
    "google_cap-library/negative_tests/testdata_canada_errors.cap": "refused: references is empty",
    # no <scope>,
    "google_cap-library/negative_tests/testdata_invalid.cap": "refused: scope is missing",
    # an empty <references></references> (it also has empty urgency, severity and certainty and
    # a polygon with stray commas; the first error found is the one reported),
    "google_cap-library/negative_tests/testdata_noaa_errors.cap": "refused: references is empty",
    # and a DTD with external entities (XXE), refused by defusedxml before anything is read.
    "google_cap-library/negative_tests/testdata_xee.cap": "refused: declares a DTD",
    "google_cap-library/testdata_australia.cap": "items: 1",
    "google_cap-library/testdata_canada.cap": "items: 1",
    "google_cap-library/testdata_canada_signed.cap": "items: 1",
    "google_cap-library/testdata_earthquake-iso8859-1.cap": "items: 1",
    "google_cap-library/testdata_earthquake.cap": "items: 1",
    "google_cap-library/testdata_earthquake_signed.cap": "items: 1",
    # Valid CAP with no <info>: an alert that says nothing a resident could read.
    "google_cap-library/testdata_no_optional_fields.cap": "no items: no info block",
    "google_cap-library/testdata_wcatwc-warning.cap": "items: 1",
    "google_cap-library/testdata_weather.cap": "items: 1",
    "google_cap-library/validator_src_com_google_publicalerts_cap_validator_examples_thunderstorm.cap": "items: 1",  # noqa: E501
    "google_cap-library/validator_war_examples_43b080713727.cap": "items: 1",
    "google_cap-library/validator_war_examples_KAR0-0306112239-SW.cap": "items: 1",
    "willglynn_oasiscap/google-PAAQ-4-mg5a94.xml": "items: 1",
    "willglynn_oasiscap/ipaws-5e6dd964023f1930ef638846.xml": "items: 1",
    # A Cancel with no <info>: still an item, which withdraws what it references.
    "willglynn_oasiscap/ipaws-5e6dd9de023f1930ef6548d9.xml": "items: 1",
    "willglynn_oasiscap/ipaws-5e6ddbad023f1930ef6c1a5a.xml": "items: 1",
    "willglynn_oasiscap/ipaws-5e7e0fc5023f1930efcf3deb.xml": "items: 1",
    "willglynn_oasiscap/ipaws-5ea321f39fc226a7b44b6874.xml": "items: 1",
    # Holds an empty <polygon></polygon>, read as no polygon (as oasiscap itself does).
    "willglynn_oasiscap/nws-5c2cf27b1f56885d61654dc47fa411d5.xml": "items: 1",
    "willglynn_oasiscap/v1dot0_appendix_adot1.xml": "refused: CAP 1.0 is not supported",
    "willglynn_oasiscap/v1dot0_appendix_adot2.xml": "refused: CAP 1.0 is not supported",
    "willglynn_oasiscap/v1dot0_appendix_adot3.xml": "refused: CAP 1.0 is not supported",
    "willglynn_oasiscap/v1dot0_appendix_adot4.xml": "refused: CAP 1.0 is not supported",
    "willglynn_oasiscap/v1dot1_appendix_adot1.xml": "items: 1",
    "willglynn_oasiscap/v1dot1_appendix_adot2.xml": "items: 1",
    "willglynn_oasiscap/v1dot1_appendix_adot3.xml": "items: 1",
    "willglynn_oasiscap/v1dot1_appendix_adot4.xml": "items: 1",
    "willglynn_oasiscap/v1dot2_appendix_adot1.xml": "items: 1",
    "willglynn_oasiscap/v1dot2_appendix_adot2.xml": "items: 1",
    "willglynn_oasiscap/v1dot2_appendix_adot3.xml": "items: 1",
    "willglynn_oasiscap/v1dot2_appendix_adot4.xml": "items: 1",
}


def cap_fixture_paths() -> list[str]:
    return sorted(
        str(path.relative_to(CAP_FIXTURES))
        for path in CAP_FIXTURES.rglob("*")
        if path.suffix in {".cap", ".xml"}
    )


def outcome_of(data: bytes) -> str:
    try:
        document = parse_cap(data)
    except DocumentRefused as refused:
        return f"refused: {refused.reason}"
    if document.refused:
        return f"item refused: {document.refused[0].reason}"
    if not document.items:
        return f"no items: {'; '.join(document.notes)}"
    return f"items: {len(document.items)}"


def only_item(document: ParsedDocument) -> Item:
    assert len(document.items) == 1, document
    return document.items[0]


def refusal_of(data: bytes) -> str:
    with pytest.raises(DocumentRefused) as refused:
        parse_cap(data)
    return refused.value.reason


# Every fixture ----------------------------------------------------------------------------------


def test_every_cap_fixture_has_an_expected_outcome() -> None:
    assert cap_fixture_paths() == sorted(EXPECTED_OUTCOMES)


@pytest.mark.parametrize("path", cap_fixture_paths())
def test_cap_fixture_has_its_expected_outcome(path: str) -> None:
    expected = EXPECTED_OUTCOMES[path]
    kind, _, detail = expected.partition(": ")
    outcome = outcome_of(fixture(path))
    assert outcome.startswith(kind + ": ")
    assert detail in outcome


@pytest.mark.parametrize("path", cap_fixture_paths())
def test_cap_fixture_bodies_are_markdown_staff_could_have_written(path: str) -> None:
    try:
        document = parse_cap(fixture(path))
    except DocumentRefused:
        return
    for item in document.items:
        assert markdown_problems(item.body_ja) == []
        assert markdown_problems(item.body_en) == []


def test_an_xml_external_entity_attack_is_refused_before_it_is_read() -> None:
    reason = refusal_of(fixture("google_cap-library/negative_tests/testdata_xee.cap"))
    assert "DTD" in reason


def test_a_459_kb_ipaws_message_parses() -> None:
    item = only_item(parse_cap(fixture("willglynn_oasiscap/ipaws-5ea321f39fc226a7b44b6874.xml")))
    assert item.urgency == Urgency.EMERGENCY
    assert item.title_ja.startswith("IPAWS Message - MI Stay Home Stay Safe")


# Languages ----------------------------------------------------------------------------------


def test_a_canadian_alert_in_english_and_french_takes_english_for_both_languages() -> None:
    item = only_item(parse_cap(fixture("google_cap-library/testdata_canada.cap")))
    assert item.title_ja == "severe thunderstorm watch"
    assert item.title_en == "severe thunderstorm watch"
    assert "orages violents" not in item.body_en


def test_an_english_and_spanish_amber_alert_takes_english_for_both_languages() -> None:
    item = only_item(parse_cap(fixture("willglynn_oasiscap/v1dot2_appendix_adot4.xml")))
    assert item.title_ja == item.title_en == "Amber Alert in Los Angeles County"


IPAWS_WITH_INFO = [
    "willglynn_oasiscap/ipaws-5e6dd964023f1930ef638846.xml",
    "willglynn_oasiscap/ipaws-5e6ddbad023f1930ef6c1a5a.xml",
    "willglynn_oasiscap/ipaws-5e7e0fc5023f1930efcf3deb.xml",
    "willglynn_oasiscap/ipaws-5ea321f39fc226a7b44b6874.xml",
]


@pytest.mark.parametrize("path", IPAWS_WITH_INFO)
def test_an_ipaws_message_in_english_only_gives_the_same_text_in_both_languages(path: str) -> None:
    # The IPAWS samples hold one en-US block each (with signatures and, some, audio).
    item = only_item(parse_cap(fixture(path)))
    assert item.title_en
    assert (item.title_ja, item.body_ja) == (item.title_en, item.body_en)


def test_a_spanish_block_first_still_gives_the_japanese_text_when_there_is_no_japanese() -> None:
    spanish = info_xml(language="es-US", headline="Alerta Amber")
    english = info_xml(language="en-US", headline="Amber Alert")
    item = only_item(parse_cap(alert_xml(infos=[spanish, english])))
    assert (item.title_ja, item.title_en) == ("Alerta Amber", "Amber Alert")


def test_a_japanese_block_gives_the_japanese_text_wherever_it_stands() -> None:
    english = info_xml(language="en-US", headline="Heavy snow warning")
    japanese = info_xml(language="ja", headline="大雪警報")
    item = only_item(parse_cap(alert_xml(infos=[english, japanese])))
    assert (item.title_ja, item.title_en) == ("大雪警報", "Heavy snow warning")


def test_a_japanese_only_alert_has_no_english_text() -> None:
    item = only_item(parse_cap(alert_xml(infos=[info_xml(language="ja-JP")])))
    assert (item.title_en, item.body_en) == ("", "")


def test_a_block_without_a_language_is_english_as_cap_says() -> None:
    item = only_item(parse_cap(alert_xml(infos=[info_xml(language=None, headline="Storm")])))
    assert item.title_en == "Storm"


def test_the_event_is_the_title_when_there_is_no_headline() -> None:
    item = only_item(parse_cap(alert_xml(infos=[info_xml(headline=None, event="大雪警報")])))
    assert item.title_ja == "大雪警報"


def test_a_title_longer_than_the_notice_allows_is_shortened() -> None:
    item = only_item(parse_cap(alert_xml(infos=[info_xml(headline="雪" * 500)])))
    assert len(item.title_ja) == 200
    assert item.title_ja.endswith("…")


# The Aizu alert, its update and its cancellation ------------------------------------------------


def test_the_aizu_heavy_snow_alert_is_a_disaster_warning_in_japanese_and_english() -> None:
    item = only_item(parse_cap(fixture("aizu/aizu_heavy_snow_alert.xml")))
    assert item.action is ItemAction.ISSUE
    assert item.category == Category.DISASTER
    assert item.urgency == Urgency.WARNING
    assert item.title_ja == "会津若松市に大雪警報（北会津地区で24時間に60センチの降雪のおそれ）"
    assert item.title_en.startswith("Heavy snow warning for Aizuwakamatsu")
    assert "不要不急の外出は控えてください" in item.body_ja
    assert "Avoid going out unless necessary" in item.body_en
    assert item.is_exercise is False
    assert item.references == ()


def test_the_aizu_alert_names_the_city_by_jis_and_local_government_codes() -> None:
    item = only_item(parse_cap(fixture("aizu/aizu_heavy_snow_alert.xml")))
    assert item.areas == (
        AreaRef(scheme="cap:JIS", code="07202", name="会津若松市（北会津地区）"),
        AreaRef(scheme="cap:LGCode", code="072028", name="会津若松市（北会津地区）"),
    )


def test_the_aizu_alert_polygon_surrounds_kitaaizu_once() -> None:
    item = only_item(parse_cap(fixture("aizu/aizu_heavy_snow_alert.xml")))
    assert len(item.polygons) == 1
    assert item.polygons[0].points[0] == (37.43, 139.88)
    assert item.polygons[0].points[0] == item.polygons[0].points[-1]


def test_the_aizu_alert_is_versioned_by_sender_identifier_and_sent_time() -> None:
    item = only_item(parse_cap(fixture("aizu/aizu_heavy_snow_alert.xml")))
    assert item.series == f"cap:{AIZU_SENDER},JP-072028-2026-0117-001"
    assert item.version_id == (
        f"cap:{AIZU_SENDER},JP-072028-2026-0117-001,2026-01-16T20:40:00+00:00"
    )
    assert item.version_at == datetime(2026, 1, 16, 20, 40, tzinfo=UTC)
    assert item.expires_at == datetime(2026, 1, 18, 3, 0, tzinfo=UTC)


def test_the_aizu_update_references_the_alert_by_its_version_id() -> None:
    alert = only_item(parse_cap(fixture("aizu/aizu_heavy_snow_alert.xml")))
    update = only_item(parse_cap(fixture("aizu/aizu_heavy_snow_update.xml")))
    assert update.action is ItemAction.ISSUE
    assert update.references == (alert.version_id,)
    assert update.version_at > alert.version_at


def test_the_aizu_update_to_an_extreme_severity_is_an_emergency() -> None:
    update = only_item(parse_cap(fixture("aizu/aizu_heavy_snow_update.xml")))
    assert update.urgency == Urgency.EMERGENCY
    assert update.title_ja.startswith("【更新】会津若松市に大雪特別警報")


def test_the_aizu_cancel_withdraws_the_alert_and_its_update() -> None:
    # Both, as CAP asks of a cancellation: whichever of them the store holds, it finds it.
    alert = only_item(parse_cap(fixture("aizu/aizu_heavy_snow_alert.xml")))
    update = only_item(parse_cap(fixture("aizu/aizu_heavy_snow_update.xml")))
    cancel = only_item(parse_cap(fixture("aizu/aizu_heavy_snow_cancel.xml")))
    assert cancel.action is ItemAction.CANCEL
    assert cancel.references == (alert.version_id, update.version_id)
    assert cancel.version_at > update.version_at
    assert cancel.urgency == Urgency.INFORMATION


def test_the_aizu_drill_is_an_exercise() -> None:
    item = only_item(parse_cap(fixture("aizu/aizu_drill_exercise.xml")))
    assert item.is_exercise is True
    assert item.title_ja.startswith("【訓練】")
    assert item.areas == (AreaRef(scheme="cap:JIS", code="07202", name="会津若松市全域"),)


# Updates and cancellations elsewhere --------------------------------------------------------------


def test_a_tsunami_update_references_the_three_messages_before_it() -> None:
    item = only_item(parse_cap(fixture("willglynn_oasiscap/google-PAAQ-4-mg5a94.xml")))
    assert item.action is ItemAction.ISSUE
    assert item.references == tuple(
        f"cap:wcatwc@noaa.gov,PAAQ-{n}-mg5a94,{sent}"
        for n, sent in [
            (1, "2013-01-05T09:01:16+00:00"),
            (2, "2013-01-05T09:30:16+00:00"),
            (3, "2013-01-05T10:17:31+00:00"),
        ]
    )


def test_an_ipaws_cancel_without_info_withdraws_the_alert_it_references() -> None:
    item = only_item(parse_cap(fixture("willglynn_oasiscap/ipaws-5e6dd9de023f1930ef6548d9.xml")))
    assert item.action is ItemAction.CANCEL
    assert item.references == (
        "cap:bbrundage@dps.state.nv.us,AS-NV-e18921c7-1b35-4a81-9705-42d25c265ddd,"
        "2019-04-18T18:02:32+00:00",
    )
    assert item.title_ja == "取消"


def test_a_reference_names_the_same_alert_whichever_time_zone_it_is_written_in() -> None:
    referenced = only_item(parse_cap(alert_xml(sent="2026-01-17T05:40:00+09:00")))
    update = only_item(
        parse_cap(
            alert_xml(
                identifier="JP-072028-TEST-2",
                msgType="Update",
                sent="2026-01-17T07:00:00+09:00",
                references=f"{AIZU_SENDER},JP-072028-TEST-1,2026-01-16T20:40:00-00:00",
            )
        )
    )
    assert update.references == (referenced.version_id,)


def test_an_update_starts_a_series_of_its_own_for_the_store_to_join_by_references() -> None:
    update = only_item(
        parse_cap(
            alert_xml(
                identifier="JP-072028-TEST-2",
                msgType="Update",
                references=f"{AIZU_SENDER},JP-072028-TEST-1,2026-01-16T20:40:00+00:00",
            )
        )
    )
    assert update.series == cap_series(AIZU_SENDER, "JP-072028-TEST-2")


def test_a_cancel_without_references_is_refused() -> None:
    assert "cancels nothing" in refusal_of(alert_xml(msgType="Cancel"))


def test_an_empty_references_element_is_refused() -> None:
    assert "references is empty" in refusal_of(alert_xml(msgType="Update", references=" "))


@pytest.mark.parametrize(
    "reference",
    ["sender,identifier", "sender,identifier,yesterday", ",identifier,2026-01-17T05:40:00+09:00"],
)
def test_a_reference_that_is_not_sender_identifier_sent_is_refused(reference: str) -> None:
    reason = refusal_of(alert_xml(msgType="Update", references=reference))
    assert "is not sender,identifier,sent" in reason


# Identity ---------------------------------------------------------------------------------------


def test_a_long_identifier_is_hashed_into_a_series_of_at_most_200_characters() -> None:
    long_identifier = "JP-072028-" + "9" * 400
    item = only_item(parse_cap(alert_xml(identifier=long_identifier)))
    assert len(item.series) == 200
    assert item.series.startswith(f"cap:{AIZU_SENDER},JP-072028-999")
    assert len(item.version_id) <= 300


def test_two_long_identifiers_sharing_a_prefix_make_different_series() -> None:
    first = cap_series(AIZU_SENDER, "A" * 300 + "1")
    second = cap_series(AIZU_SENDER, "A" * 300 + "2")
    assert first != second


def test_the_version_id_is_written_in_utc() -> None:
    sent = datetime.fromisoformat("2026-01-17T05:40:00+09:00")
    assert cap_version_id("s", "i", sent) == "cap:s,i,2026-01-16T20:40:00+00:00"


@pytest.mark.parametrize("identifier", ["JP 1", "JP,1", "JP<1"])
def test_an_identifier_with_a_space_comma_or_angle_bracket_is_refused(identifier: str) -> None:
    assert "identifier" in refusal_of(alert_xml(identifier=identifier))


# The alert's header -------------------------------------------------------------------------------


@pytest.mark.parametrize("element", ["identifier", "sender", "sent", "status", "msgType", "scope"])
def test_a_missing_required_element_is_named(element: str) -> None:
    assert refusal_of(alert_xml(omit=[element])) == f"{element} is missing"


@pytest.mark.parametrize("sent", ["2026-01-17T05:40:00", "yesterday", "2026-13-01T00:00:00+09:00"])
def test_a_sent_time_that_is_not_an_aware_date_time_is_refused(sent: str) -> None:
    assert refusal_of(alert_xml(sent=sent)).startswith("sent ")


@pytest.mark.parametrize("status", ["Draft", "System"])
def test_a_draft_or_system_alert_is_not_published(status: str) -> None:
    assert refusal_of(alert_xml(status=status)) == f"status {status} is not published"


@pytest.mark.parametrize("status", ["Exercise", "Test"])
def test_an_exercise_or_test_alert_is_stored_as_an_exercise(status: str) -> None:
    assert only_item(parse_cap(alert_xml(status=status))).is_exercise is True


def test_an_actual_alert_is_real() -> None:
    assert only_item(parse_cap(alert_xml(status="Actual"))).is_exercise is False


def test_an_unknown_status_is_refused() -> None:
    assert "is not a CAP status" in refusal_of(alert_xml(status="Maybe"))


@pytest.mark.parametrize("msg_type", ["Ack", "Error"])
def test_an_ack_or_error_is_not_a_notice(msg_type: str) -> None:
    assert refusal_of(alert_xml(msgType=msg_type)) == f"msgType {msg_type} is not a notice"


@pytest.mark.parametrize(
    ("msg_type", "action"), [("Alert", ItemAction.ISSUE), ("Update", ItemAction.ISSUE)]
)
def test_an_alert_or_update_issues_a_notice(msg_type: str, action: ItemAction) -> None:
    item = only_item(parse_cap(alert_xml(msgType=msg_type)))
    assert item.action is action


def test_a_restricted_alert_makes_no_notice_and_says_why() -> None:
    document = parse_cap(alert_xml(scope="Restricted"))
    assert document.items == ()
    assert document.notes == ("scope Restricted: not for the public",)


def test_an_alert_without_info_makes_no_notice_and_says_why() -> None:
    document = parse_cap(alert_xml(infos=[]))
    assert document.items == ()
    assert "no info block" in document.notes[0]


def test_cap_1_0_is_refused_as_unsupported() -> None:
    data = alert_xml(namespace="http://www.incident.com/cap/1.0")
    assert refusal_of(data) == "CAP 1.0 is not supported"


def test_cap_1_1_is_read_like_1_2() -> None:
    data = alert_xml(namespace="urn:oasis:names:tc:emergency:cap:1.1")
    assert only_item(parse_cap(data)).title_ja == "会津若松市に大雪警報"


@pytest.mark.parametrize(
    ("namespace", "root"),
    [("urn:oasis:names:tc:emergency:cap:1.2", "message"), ("http://example.com/x", "alert")],
)
def test_a_document_that_is_not_a_cap_alert_is_refused(namespace: str, root: str) -> None:
    assert refusal_of(alert_xml(namespace=namespace, root=root)).startswith("not a CAP alert (root")


def test_a_document_that_is_not_xml_is_refused() -> None:
    assert "not well-formed" in refusal_of(b"<alert>")


# Urgency ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "urgency"),
    [
        ("Extreme", Urgency.EMERGENCY),
        ("Severe", Urgency.WARNING),
        ("Moderate", Urgency.ADVISORY),
        ("Minor", Urgency.INFORMATION),
        ("Unknown", Urgency.INFORMATION),
    ],
)
def test_severity_sets_the_urgency(severity: str, urgency: Urgency) -> None:
    item = only_item(parse_cap(alert_xml(infos=[info_xml(severity=severity)])))
    assert item.urgency == urgency


def test_an_event_in_the_past_is_only_information() -> None:
    info = info_xml(severity="Extreme", urgency="Past")
    assert only_item(parse_cap(alert_xml(infos=[info]))).urgency == Urgency.INFORMATION


def test_an_unlikely_event_is_only_information() -> None:
    info = info_xml(severity="Extreme", certainty="Unlikely")
    assert only_item(parse_cap(alert_xml(infos=[info]))).urgency == Urgency.INFORMATION


def test_the_most_urgent_block_sets_the_urgency() -> None:
    infos = [info_xml(severity="Minor"), info_xml(language="en-US", severity="Extreme")]
    assert only_item(parse_cap(alert_xml(infos=infos))).urgency == Urgency.EMERGENCY


@pytest.mark.parametrize("element", ["severity", "urgency", "certainty"])
def test_a_value_cap_does_not_know_refuses_the_item(element: str) -> None:
    document = parse_cap(alert_xml(infos=[info_xml(**{element: "Dreadful"})]))
    assert document.items == ()
    assert document.refused[0].reason.startswith(f"info {element} 'Dreadful' is not one of")


def test_a_refused_item_is_named_by_its_version_id() -> None:
    document = parse_cap(alert_xml(infos=[info_xml(severity="")]))
    assert document.refused[0].reference == (
        f"cap:{AIZU_SENDER},JP-072028-TEST-1,2026-01-16T20:40:00+00:00"
    )


# Expiry -----------------------------------------------------------------------------------------


def test_the_latest_expiry_of_the_blocks_is_the_notice_expiry() -> None:
    infos = [
        info_xml(expires="2026-01-18T12:00:00+09:00"),
        info_xml(language="en-US", expires="2026-01-19T12:00:00+09:00"),
    ]
    item = only_item(parse_cap(alert_xml(infos=infos)))
    assert item.expires_at == datetime(2026, 1, 19, 3, 0, tzinfo=UTC)


def test_an_alert_without_expiry_has_none() -> None:
    assert only_item(parse_cap(alert_xml())).expires_at is None


def test_an_expiry_without_a_time_zone_refuses_the_item() -> None:
    document = parse_cap(alert_xml(infos=[info_xml(expires="2026-01-18T12:00:00")]))
    assert document.refused[0].reason.startswith("expires ")


# Areas ------------------------------------------------------------------------------------------


def test_each_geocode_is_an_area_ref_named_by_its_area_description() -> None:
    area = area_xml("北会津地区", geocodes=[("JIS", "07202"), ("SAME", "006109")])
    item = only_item(parse_cap(alert_xml(infos=[info_xml(areas=[area])])))
    assert item.areas == (
        AreaRef(scheme="cap:JIS", code="07202", name="北会津地区"),
        AreaRef(scheme="cap:SAME", code="006109", name="北会津地区"),
    )


def test_a_geocode_repeated_in_another_language_is_one_area_named_as_in_japanese() -> None:
    japanese = info_xml(areas=[area_xml("北会津地区", geocodes=[("JIS", "07202")])])
    english = info_xml(language="en-US", areas=[area_xml("Kitaaizu", geocodes=[("JIS", "07202")])])
    item = only_item(parse_cap(alert_xml(infos=[english, japanese])))
    assert item.areas == (AreaRef(scheme="cap:JIS", code="07202", name="北会津地区"),)


def test_an_empty_geocode_is_skipped() -> None:
    area = area_xml(geocodes=[("JIS", "")])
    assert only_item(parse_cap(alert_xml(infos=[info_xml(areas=[area])]))).areas == ()


def test_a_polygon_is_read_as_latitude_longitude_pairs() -> None:
    polygon = "37.43,139.88 37.43,139.98 37.50,139.98 37.43,139.88"
    item = only_item(parse_cap(alert_xml(infos=[info_xml(areas=[area_xml(polygons=[polygon])])])))
    assert item.polygons == (
        Polygon(points=((37.43, 139.88), (37.43, 139.98), (37.50, 139.98), (37.43, 139.88))),
    )


def test_a_circle_is_read_as_centre_and_radius_in_km() -> None:
    area = area_xml(circles=["37.4947,139.9297 5.5"])
    item = only_item(parse_cap(alert_xml(infos=[info_xml(areas=[area])])))
    assert item.circles == (Circle(latitude=37.4947, longitude=139.9297, radius_km=5.5),)


def test_an_empty_polygon_element_is_no_polygon() -> None:
    item = only_item(parse_cap(alert_xml(infos=[info_xml(areas=[area_xml(polygons=[""])])])))
    assert item.polygons == ()


@pytest.mark.parametrize(
    ("polygon", "reason"),
    [
        ("37.43,139.88 37.43,139.98 37.43,139.88", "fewer than 4"),
        ("37.43,139.88 37.43,139.98 37.50,139.98 37.50,139.88", "not closed"),
        ("97.43,139.88 37.43,139.98 37.50,139.98 97.43,139.88", "out of range"),
        ("37.43,189.88 37.43,139.98 37.50,139.98 37.43,189.88", "out of range"),
        ("37.43,139.88, 37.43,139.98 37.50,139.98 37.43,139.88,", "is not 'lat,lon'"),
        ("37.43;139.88 37.43;139.98 37.50;139.98 37.43;139.88", "is not 'lat,lon'"),
        ("nan,139.88 37.43,139.98 37.50,139.98 nan,139.88", "is not 'lat,lon'"),
    ],
)
def test_a_malformed_polygon_refuses_the_item(polygon: str, reason: str) -> None:
    document = parse_cap(alert_xml(infos=[info_xml(areas=[area_xml(polygons=[polygon])])]))
    assert document.items == ()
    assert reason in document.refused[0].reason


@pytest.mark.parametrize("circle", ["37.49,139.92", "37.49,139.92 -1", "37.49 139.92 5", "x,y 5"])
def test_a_malformed_circle_refuses_the_item(circle: str) -> None:
    document = parse_cap(alert_xml(infos=[info_xml(areas=[area_xml(circles=[circle])])]))
    assert document.items == ()
    assert "circle" in document.refused[0].reason


# Text -------------------------------------------------------------------------------------------


def test_the_body_is_description_then_instruction_then_web_link() -> None:
    info = info_xml(
        description="北会津地区で大雪のおそれ。",
        instruction="外出は控えてください。",
        web="https://www.city.aizuwakamatsu.example/bousai/",
    )
    item = only_item(parse_cap(alert_xml(infos=[info])))
    assert item.body_ja == (
        "北会津地区で大雪のおそれ。\n\n外出は控えてください。\n\n"
        "<https://www.city.aizuwakamatsu.example/bousai/>"
    )


def test_a_web_address_that_is_not_http_is_left_out() -> None:
    item = only_item(parse_cap(alert_xml(infos=[info_xml(web="javascript:alert(1)")])))
    assert "javascript" not in item.body_ja


def test_html_in_a_description_cannot_reach_the_page() -> None:
    hostile = (
        '<script>alert(1)</script><img src=x onerror="alert(2)"><iframe src="https://evil"></iframe>'
        "[click](javascript:alert(3)) <javascript:alert(4)> &lt;b&gt; <b style='color:red'>x</b>"
    )
    item = only_item(parse_cap(alert_xml(infos=[info_xml(description=hostile)])))
    assert markdown_problems(item.body_ja) == []
    assert "<script" not in item.body_ja
    assert "onerror" not in item.body_ja


def test_line_break_tags_in_a_description_become_paragraphs() -> None:
    info = info_xml(description="ALERT LEVEL: Advice<br />LOCATION: Yerong Creek")
    item = only_item(parse_cap(alert_xml(infos=[info])))
    assert item.body_ja == "ALERT LEVEL: Advice\n\nLOCATION: Yerong Creek"


def test_markdown_characters_in_a_description_are_shown_as_written() -> None:
    info = info_xml(description="[警報] 1 < 2 & 3 > 2")
    item = only_item(parse_cap(alert_xml(infos=[info])))
    assert item.body_ja == "\\[警報\\] 1 \\< 2 \\& 3 \\> 2"


# Only DocumentRefused escapes -------------------------------------------------------------------

SAMPLES = [fixture(path) for path in cap_fixture_paths()]


def parse_or_refuse(data: bytes) -> None:
    with contextlib.suppress(DocumentRefused):
        parse_cap(data)


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=2000))
def test_random_bytes_raise_nothing_but_document_refused(data: bytes) -> None:
    parse_or_refuse(data)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    sample=st.sampled_from(SAMPLES),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    insert=st.binary(max_size=40),
)
def test_mutated_cap_samples_raise_nothing_but_document_refused(
    sample: bytes, seed: int, insert: bytes
) -> None:
    rng = random.Random(seed)
    start = rng.randrange(len(sample))
    end = min(len(sample), start + rng.randrange(0, 60))
    parse_or_refuse(sample[:start] + insert + sample[end:])


ELEMENT_VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ["", " ", "nan", "inf", "-00:00", "0001-01-01T00:00:00+09:00", "1,2,3", "9" * 40]
    ),
)


@settings(max_examples=300, deadline=None, database=None)
@given(
    element=st.sampled_from(
        ["identifier", "sender", "sent", "status", "msgType", "scope", "references", "language",
         "urgency", "severity", "certainty", "expires", "headline", "polygon", "circle", "value",
         "valueName", "web", "description"]
    ),
    value=ELEMENT_VALUES,
)  # fmt: skip
def test_any_value_in_any_cap_element_raises_nothing_but_document_refused(
    element: str, value: str
) -> None:
    sample = fixture("aizu/aizu_heavy_snow_update.xml").decode()
    opening, closing = f"<{element}>", f"</{element}>"
    start = sample.find(opening)
    if start < 0:
        sample = sample.replace("</info>", f"{opening}x{closing}</info>", 1)
        start = sample.find(opening)
    end = sample.find(closing, start)
    cleaned = "".join(ch for ch in value if ch.isprintable() or ch in "\n\t")
    mutated = sample[: start + len(opening)] + escape(cleaned) + sample[end:]
    parse_or_refuse(mutated.encode())


def test_a_description_of_a_long_run_of_spaces_after_a_tag_is_read_in_linear_time() -> None:
    # "<br" then spaces: a pattern \s*/?\s* once took minutes over a megabyte of them.
    info = info_xml(description="<br" + " " * 200_000 + "end")
    item = only_item(parse_cap(alert_xml(infos=[info])))
    assert item.body_ja.endswith("end")


def test_an_alert_in_an_unknown_encoding_is_refused() -> None:
    data = alert_xml().replace(b'encoding="UTF-8"', b'encoding="SJIS-2026"')
    assert refusal_of(data).startswith("unknown character encoding")
