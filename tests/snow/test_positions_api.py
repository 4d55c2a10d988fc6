"""``POST /api/v1/plow/positions``: a vehicle's device posts a batch of GPS fixes with its bearer
token; a bad batch is refused with every reason and nothing of it is stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from portal.snow.models import PlowPosition, Vehicle, VehicleToken
from portal.snow.services import token_issue, token_revoke, vehicle_add
from tests.factories import DistrictFactory, MunicipalityFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 3, 20, 40, tzinfo=UTC)  # 05:40 in Aizuwakamatsu
URL = "/api/v1/plow/positions"
# 北会津 and a point 300 m east of it
KITAAIZU = (37.492263, 139.873312)
EAST = (37.492263, 139.876712)


@pytest.fixture(autouse=True)
def city_and_clock() -> Any:
    city = MunicipalityFactory.create(code="072028", latitude=37.4948, longitude=139.9298)
    DistrictFactory.create(
        parent=city, code="072028-kitaaizu", latitude=KITAAIZU[0], longitude=KITAAIZU[1]
    )
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def vehicle() -> Vehicle:
    return vehicle_add(name="除雪1号", operator="会津建設")


@pytest.fixture
def token(vehicle: Vehicle) -> str:
    return token_issue(vehicle_id=vehicle.pk)


def fix(seconds_ago: int = 20, where: tuple[float, float] = KITAAIZU, **fields: Any) -> dict:
    return {
        "time": (NOW - timedelta(seconds=seconds_ago)).isoformat(),
        "lat": where[0],
        "lon": where[1],
        "working": True,
        **fields,
    }


def post(client: Any, body: Any, token: str | None, *, query: str = "") -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(URL + query, data=data, content_type="application/json", **headers)


def reasons(response: Any) -> list[str]:
    return [error["message"] for error in response.json()["errors"]]


def test_a_batch_of_fixes_is_stored_for_the_tokens_vehicle(client, vehicle, token) -> None:
    response = post(client, {"fixes": [fix(40), fix(20, EAST, heading=90, speed=20)]}, token)

    assert response.status_code == 201
    assert response.json() == {"accepted": 2, "duplicates": 0}
    stored = PlowPosition.objects.order_by("at")
    assert [(p.vehicle_id, p.lat, p.lon, p.heading, p.speed_kmh) for p in stored] == [
        (vehicle.pk, KITAAIZU[0], KITAAIZU[1], None, None),
        (vehicle.pk, EAST[0], EAST[1], 90, 20),
    ]


def test_a_batch_sent_again_stores_nothing_twice(client, token) -> None:
    batch = {"fixes": [fix(40), fix(20, EAST)]}
    post(client, batch, token)

    again = post(client, batch, token)

    assert again.status_code == 200
    assert again.json() == {"accepted": 0, "duplicates": 2}
    assert PlowPosition.objects.count() == 2


def test_a_fix_repeated_in_one_batch_is_stored_once(client, token) -> None:
    response = post(client, {"fixes": [fix(20), fix(20)]}, token)

    assert response.json() == {"accepted": 1, "duplicates": 1}


def test_a_bad_batch_is_refused_with_every_reason_and_nothing_stored(client, token) -> None:
    batch = {
        "fixes": [
            fix(20),  # good, but the batch is refused whole
            fix(-120),  # two minutes ahead
            fix(7200),  # two hours old
            {**fix(10), "lat": 35.6812, "lon": 139.7671},  # Tokyo
            {**fix(5), "working": "yes", "lat": "37.49"},
        ]
    }

    response = post(client, batch, token)

    assert response.status_code == 400
    assert {(e["fix"], e["field"]) for e in response.json()["errors"]} == {
        (1, "time"), (2, "time"), (3, "lat"), (4, "lat"), (4, "working"),
    }  # fmt: skip
    assert not PlowPosition.objects.exists()


def test_a_jump_no_plow_can_make_is_refused(client, token) -> None:
    # 3 km in 20 seconds: 540 km/h.
    response = post(client, {"fixes": [fix(40), fix(20, (37.519, 139.8733))]}, token)

    assert response.status_code == 400
    assert "km/h" in reasons(response)[0]


def test_the_speed_is_checked_against_the_fix_stored_before(client, token) -> None:
    post(client, {"fixes": [fix(40)]}, token)

    response = post(client, {"fixes": [fix(20, (37.519, 139.8733))]}, token)

    assert response.status_code == 400
    assert PlowPosition.objects.count() == 1


FAR = (37.54, 139.97)  # about 10 km from 北会津
BAD_NUMBER = (
    '{"fixes": [{"time": "'
    + NOW.isoformat()
    + '", "lat": NUMBER, "lon": 139.87, "working": true}]}'
)


def test_a_fix_at_a_stored_time_but_elsewhere_is_refused(client, token) -> None:
    post(client, {"fixes": [fix(20)]}, token)

    response = post(client, {"fixes": [fix(20, FAR), fix(19, FAR)]}, token)

    assert response.status_code == 400
    assert "stored elsewhere" in reasons(response)[0]
    assert PlowPosition.objects.count() == 1


def test_a_fix_older_than_the_stored_ones_is_checked_against_its_neighbours(client, token) -> None:
    post(client, {"fixes": [fix(20)]}, token)

    response = post(client, {"fixes": [fix(30, FAR)]}, token)

    assert response.status_code == 400
    assert "km/h" in reasons(response)[0]
    assert PlowPosition.objects.count() == 1


def test_a_late_fix_that_fits_between_the_stored_ones_is_stored(client, token) -> None:
    post(client, {"fixes": [fix(40), fix(20, EAST)]}, token)

    response = post(client, {"fixes": [fix(30, (37.492263, 139.875012))]}, token)

    assert response.status_code == 201
    assert PlowPosition.objects.count() == 3


def test_two_fixes_of_one_time_at_two_places_in_one_batch_are_refused(client, token) -> None:
    response = post(client, {"fixes": [fix(20), fix(20, EAST)]}, token)

    assert response.status_code == 400
    assert "this time elsewhere" in reasons(response)[0]
    assert not PlowPosition.objects.exists()


def test_a_retried_batch_is_counted_as_duplicates_whatever_raced_it(client, token) -> None:
    body = {"fixes": [fix(40), fix(20, EAST)]}
    post(client, body, token)

    again = post(client, body, token)

    assert again.status_code == 200
    assert again.json() == {"accepted": 0, "duplicates": 2}


@pytest.mark.parametrize(
    "body",
    [
        BAD_NUMBER.replace("NUMBER", "1" + "0" * 400),
        BAD_NUMBER.replace("NUMBER", "1" * 5000),
        '{"fixes": ' + "[" * 20000 + "]" * 20000 + "}",
    ],
    ids=["a number beyond any float", "an integer of 5,000 digits", "arrays nested deep"],
)
def test_json_that_python_cannot_hold_is_refused_not_crashed_on(client, token, body) -> None:
    response = post(client, body, token)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert not PlowPosition.objects.exists()


def test_a_batch_naming_a_vehicle_whose_name_is_another_vehicles_id_is_refused(client) -> None:
    other = vehicle_add(name="除雪2号")
    mine = vehicle_add(name=str(other.pk))
    token = token_issue(vehicle_id=mine.pk)

    response = post(client, {"vehicle": str(other.pk), "fixes": [fix()]}, token)

    assert response.status_code == 400
    assert not PlowPosition.objects.exists()


@pytest.mark.parametrize("query", ["?TOKEN=x", "?bearer=x", "?api-key=x", "?anything=1"])
def test_any_query_string_is_refused(client, token, query) -> None:
    response = post(client, {"fixes": [fix()]}, token, query=query)

    assert response.status_code == 400
    assert not PlowPosition.objects.exists()


def test_a_batch_not_sent_as_json_is_refused_with_415(client, token) -> None:
    response = client.post(
        URL,
        data=json.dumps({"fixes": [fix()]}),
        content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 415
    assert not PlowPosition.objects.exists()


def test_a_body_declared_too_large_is_refused_with_413_before_it_is_read(
    client, token, settings
) -> None:
    settings.SNOW_MAX_BODY_BYTES = 100

    response = post(client, {"fixes": [fix()] * 5}, token)

    assert response.status_code == 413
    assert reasons(response) == ["the batch is too large"]


def test_a_body_beyond_djangos_upload_limit_gets_413_json(client, token, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50
    settings.SNOW_MAX_BODY_BYTES = 10_000

    response = post(client, {"fixes": [fix()] * 5}, token)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"


def test_guessing_tokens_is_slowed_down(client) -> None:
    codes = [post(client, {"fixes": [fix()]}, f"plow_guess{i}").status_code for i in range(31)]

    assert codes[:30] == [401] * 30
    assert codes[30] == 429


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ("[]", "a JSON object"),
        ({"fixes": []}, "non-empty list"),
        ({"fixes": [fix()] * 101}, "at most 100"),
        ({"fixes": [fix()], "colour": "red"}, "unknown fields"),
        ({"fixes": ["here"]}, "a fix is a JSON object"),
        ({"fixes": [{**fix(), "time": "2026-12-03 20:40"}]}, "time zone"),
        ({"fixes": [{**fix(), "lat": float("nan")}]}, "latitude"),
        ({"fixes": [{**fix(), "lat": True}]}, "latitude"),
        ({"fixes": [{**fix(), "heading": 400}]}, "from 0 to 359"),
    ],
)
def test_malformed_batches_are_refused_with_a_reason(client, token, body, reason) -> None:
    if isinstance(body, dict) and any(
        isinstance(f, dict) and f.get("lat") != f.get("lat") for f in body.get("fixes", [])
    ):
        body = json.dumps(body).encode()  # json.dumps writes NaN, which Python reads back
    response = post(client, body, token)

    assert response.status_code == 400
    assert any(reason in message for message in reasons(response)), reasons(response)
    assert not PlowPosition.objects.exists()


def test_a_batch_naming_another_vehicle_is_refused(client, token) -> None:
    other = vehicle_add(name="除雪2号")

    response = post(client, {"vehicle": other.pk, "fixes": [fix()]}, token)

    assert response.status_code == 400
    assert "another vehicle" in reasons(response)[0]
    assert not PlowPosition.objects.exists()


def test_an_unknown_or_missing_token_gets_401(client) -> None:
    for token in ("plow_not-a-token", None):
        response = post(client, {"fixes": [fix()]}, token)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_gets_401(client, vehicle, token) -> None:
    token_revoke(token_id=VehicleToken.objects.get().pk)

    assert post(client, {"fixes": [fix()]}, token).status_code == 401


def test_a_token_in_the_query_string_is_refused_even_when_valid(client, token) -> None:
    response = post(client, {"fixes": [fix()]}, None, query=f"?token={token}")

    assert response.status_code == 400
    assert "Authorization header" in reasons(response)[0]
    assert not PlowPosition.objects.exists()


def test_a_vehicle_posting_too_often_gets_429_with_retry_after(client, token, settings) -> None:
    settings.SNOW_BATCHES_PER_MINUTE = 3
    codes = [post(client, {"fixes": [fix(50 - i)]}, token).status_code for i in range(4)]

    assert codes == [201, 201, 201, 429]
    last = post(client, {"fixes": [fix(10)]}, token)
    assert 1 <= int(last["Retry-After"]) <= 60


def test_the_clock_skew_the_device_reports_is_answered(client, token) -> None:
    sent = (NOW + timedelta(seconds=95)).isoformat()

    response = post(client, {"sent": sent, "fixes": [fix()]}, token)

    assert response.json()["clock_skew_seconds"] == 95.0
    assert response.json()["warnings"]


def test_only_a_hash_of_the_token_is_stored(vehicle, token) -> None:
    stored = VehicleToken.objects.get()

    assert token not in stored.token_hash
    assert stored.prefix == token[:11]


def test_plow_vehicle_add_prints_a_token_that_works(client, capsys) -> None:
    call_command("plow_vehicle_add", "除雪3号", "--operator", "北会津除雪組合")
    token = capsys.readouterr().out.strip().splitlines()[-1]

    assert post(client, {"fixes": [fix()]}, token).status_code == 201
    assert Vehicle.objects.get(name="除雪3号").operator == "北会津除雪組合"


def test_the_api_is_described_by_an_openapi_document(client) -> None:
    response = client.get(reverse("api:openapi"))

    spec = response.json()
    assert spec["openapi"].startswith("3.1")
    responses = spec["paths"]["/plow/positions"]["post"]["responses"]
    assert {"200", "201", "400", "401", "413", "429"} <= set(responses)


def test_the_api_takes_only_post(client) -> None:
    assert client.get(URL).status_code == 405
