"""Specification of ``manage.py load_demo`` and the demo data it loads."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Q
from pytest_django import Settings

from consent.models import PaperFormBatch
from portal.demo.loader import DATA_DIR, DEMO_ACCOUNTS, DEMO_TOTP_SECRET, DemoDataError, load_demo
from portal.models import Area, School, Shelter, User
from portal.notices.models import Category, Notice
from portal.places.importers import GSI_HAZARD_FIELDS, school_kind_from_name
from tests.helpers import clock_stopped, totp_code

pytestmark = pytest.mark.django_db

AIZUWAKAMATSU = "072028"
NEIGHBOURS = ["072087", "074217", "074225", "074471", "074071", "074080"]
STAFF_ROLES = {
    "publisher@city.example.jp": "publisher",
    "approver@city.example.jp": "approver",
    "officer@city.example.jp": "consent_officer",
    "clerk@city.example.jp": "counter_clerk",
    "disaster@city.example.jp": "disaster_officer",
    "teacher@school.example.jp": "school_staff",
}


@pytest.fixture(autouse=True)
def demo_media(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def demo_settings(settings: Settings) -> None:
    settings.DEBUG = True  # load_demo refuses to run otherwise
    # The production hasher costs most of a second per password; the demo sets six.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot() -> dict[str, list[tuple[object, ...]]]:
    """Every row the demo touches, as plain values (passwords as hashes)."""
    return {
        "areas": list(Area.objects.order_by("code").values_list()),
        "shelters": list(Shelter.objects.order_by("kind", "source_id").values_list()),
        "schools": list(School.objects.order_by("code").values_list()),
        "users": list(User.objects.order_by("email").values_list()),
        "emails": list(EmailAddress.objects.order_by("email").values_list()),
        "authenticators": list(Authenticator.objects.order_by("user_id", "type").values_list()),
        "notices": list(Notice.objects.order_by("id").values_list("id", "status", "title_ja")),
    }


def root_of(area: Area) -> Area:
    while area.parent is not None:
        area = area.parent
    return area


# ------------------------------------------------------------------------------------------------
# Shelters
# ------------------------------------------------------------------------------------------------
def test_load_demo_creates_all_301_gsi_sites() -> None:
    run_load_demo()

    assert Shelter.objects.filter(kind=Shelter.Kind.EMERGENCY_SITE).count() == 199
    assert Shelter.objects.filter(kind=Shelter.Kind.SHELTER).count() == 102
    assert Shelter.objects.filter(source_id__startswith="E07202").count() == 301


def test_every_shelter_has_an_area_in_aizuwakamatsu() -> None:
    run_load_demo()

    roots = {root_of(shelter.area).code for shelter in Shelter.objects.select_related("area")}

    assert roots == {AIZUWAKAMATSU}


def test_shelters_are_placed_in_the_neighbourhood_their_address_names() -> None:
    run_load_demo()

    city_office = Shelter.objects.get(kind="emergency", name_ja="追手町第二庁舎")
    # The address says 一箕町大字八幡; the neighbourhood is named without 大字.
    ikki_junior_high = Shelter.objects.get(kind="evacuation", name_ja="一箕中学校")

    assert city_office.area.code == "072028-kakujo-otemachi"
    assert city_office.area.kind == Area.Kind.NEIGHBOURHOOD
    assert ikki_junior_high.area.name_ja == "一箕町八幡"


def test_shelter_whose_address_names_no_neighbourhood_falls_back_to_its_district() -> None:
    run_load_demo()

    # GSI writes 湊町大字協和 here, where every other entry of the place says 共和.
    minato_hall = Shelter.objects.get(kind="emergency", name_ja="湊公民館")

    assert minato_hall.area.code == "072028-minato"
    assert minato_hall.area.kind == Area.Kind.DISTRICT


def test_hazard_flags_follow_the_gsi_columns() -> None:
    run_load_demo()

    green = Shelter.objects.get(kind="emergency", source_id="E0720200001201")  # 物流修景緑地
    emergency = Shelter.objects.filter(kind="emergency")

    assert (green.for_flood, green.for_landslide, green.for_earthquake) == (True, True, True)
    assert (green.for_large_fire, green.for_inland_flooding) == (True, True)
    assert (green.for_storm_surge, green.for_tsunami, green.for_volcano) == (False, False, False)
    assert emergency.filter(for_flood=True).count() == 124
    assert emergency.filter(for_earthquake=True).count() == 193


def test_designated_shelters_carry_no_hazard_flags_because_gsi_gives_none() -> None:
    run_load_demo()

    any_hazard = Q()
    for field_name in GSI_HAZARD_FIELDS.values():
        any_hazard |= Q(**{field_name: True})

    assert Shelter.objects.filter(kind="evacuation").count() == 102
    assert not Shelter.objects.filter(any_hazard, kind="evacuation").exists()


def test_shelter_names_lose_trailing_ideographic_spaces() -> None:
    run_load_demo()

    assert not Shelter.objects.filter(name_ja__endswith="\u3000").exists()
    assert Shelter.objects.filter(name_ja="鶴ケ城公園（鶴ケ城体育館）").count() == 2


# ------------------------------------------------------------------------------------------------
# Areas
# ------------------------------------------------------------------------------------------------
def test_aizuwakamatsu_has_districts_and_neighbourhoods() -> None:
    run_load_demo()

    city = Area.objects.get(code=AIZUWAKAMATSU)
    districts = Area.objects.filter(parent=city, kind=Area.Kind.DISTRICT)
    neighbourhoods = Area.objects.filter(parent__parent=city, kind=Area.Kind.NEIGHBOURHOOD)

    assert city.name_ja == "会津若松市"
    assert 15 <= districts.count() <= 25
    assert neighbourhoods.count() >= 100
    otemachi = Area.objects.select_related("parent").get(code="072028-kakujo-otemachi")
    assert otemachi.parent is not None
    assert otemachi.parent.code == "072028-kakujo"


def test_neighbouring_municipalities_are_roots() -> None:
    run_load_demo()

    for code in NEIGHBOURS:
        municipality = Area.objects.get(code=code)
        assert municipality.kind == Area.Kind.MUNICIPALITY
        assert municipality.parent is None
        assert municipality.subareas.filter(kind=Area.Kind.DISTRICT).exists()


def test_every_area_has_an_english_name_and_a_point() -> None:
    run_load_demo()

    assert not Area.objects.filter(name_en="").exists()
    assert not Area.objects.filter(latitude__isnull=True).exists()
    assert not Area.objects.filter(longitude__isnull=True).exists()


def test_demo_area_points_lie_in_the_aizu_region() -> None:
    run_load_demo()

    for area in Area.objects.all():
        assert area.latitude is not None and area.longitude is not None, area.code
        assert 37.2 < area.latitude < 37.8, area.code
        assert 139.7 < area.longitude < 140.2, area.code


# ------------------------------------------------------------------------------------------------
# Schools
# ------------------------------------------------------------------------------------------------
def test_load_demo_loads_the_35_operating_schools() -> None:
    run_load_demo()

    assert School.objects.count() == 35
    # Closed schools (旧…) and a sports ground are shelters, not schools.
    assert not School.objects.filter(name_ja__startswith="旧").exists()
    assert not School.objects.filter(name_ja__contains="グラウンド").exists()


def test_schools_get_kind_english_name_and_area() -> None:
    run_load_demo()

    kakujo = School.objects.get(code="072028-es-kakujo")

    assert kakujo.name_ja == "鶴城小学校"
    assert kakujo.name_en == "Kakujo Elementary School"
    assert kakujo.kind == School.Kind.ELEMENTARY
    assert kakujo.area.code == "072028-kakujo-higashisakaemachi"
    assert root_of(kakujo.area).code == AIZUWAKAMATSU
    assert School.objects.filter(kind=School.Kind.JUNIOR_HIGH).count() == 10
    assert School.objects.filter(kind=School.Kind.HIGH).count() == 5


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("鶴城小学校", School.Kind.ELEMENTARY),
        ("第一中学校", School.Kind.JUNIOR_HIGH),
        ("福島県立葵高等学校", School.Kind.HIGH),
        ("会津若松市立某高校", School.Kind.HIGH),
        ("河東学園義務教育学校", School.Kind.COMPULSORY),
        ("福島県立会津学鳳中学校・高等学校", School.Kind.JUNIOR_HIGH),
        ("公立学校法人会津大学", School.Kind.OTHER),
        ("福島県立会津支援学校", School.Kind.OTHER),
    ],
)
def test_school_kind_is_inferred_from_the_name(name: str, kind: School.Kind) -> None:
    assert school_kind_from_name(name) == kind


# ------------------------------------------------------------------------------------------------
# Accounts
# ------------------------------------------------------------------------------------------------
def test_demo_accounts_sign_in_with_the_documented_passwords() -> None:
    run_load_demo()

    for account in DEMO_ACCOUNTS:
        user = User.objects.get(email=account.email)
        assert user.check_password(account.password), account.email
        assert EmailAddress.objects.filter(
            user=user, email=account.email, verified=True, primary=True
        ).exists()


def test_demo_staff_accounts_have_totp_and_roles() -> None:
    run_load_demo()

    for email, role in STAFF_ROLES.items():
        user = User.objects.get(email=email)
        assert user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.has_perm("portal.access_staff_console")
    for email in [*STAFF_ROLES, "admin@city.example.jp"]:
        user = User.objects.get(email=email)
        assert is_mfa_enabled(user)
        totp = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
        with clock_stopped():
            assert totp.wrap().validate_code(totp_code(DEMO_TOTP_SECRET))
        codes = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
        assert len(codes.wrap().get_unused_codes()) == 10


def test_the_demo_counter_has_a_batch_of_paper_forms_once() -> None:
    run_load_demo()
    run_load_demo()

    [batch] = PaperFormBatch.objects.all()
    assert batch.forms.count() == 20
    assert batch.issued_by_email == "officer@city.example.jp"


def test_demo_admin_is_a_superuser() -> None:
    run_load_demo()

    admin = User.objects.get(email="admin@city.example.jp")

    assert admin.is_staff and admin.is_superuser


def test_demo_resident_has_no_staff_rights_and_no_mfa() -> None:
    run_load_demo()

    resident = User.objects.get(email="resident@example.jp")

    assert not resident.is_staff and not resident.is_superuser
    assert not resident.groups.exists()
    assert not Authenticator.objects.filter(user=resident).exists()


def test_rerun_resets_what_a_tester_changed_on_a_demo_account() -> None:
    run_load_demo()
    publisher = User.objects.get(email="publisher@city.example.jp")
    publisher.set_password("changed-during-the-demo")
    publisher.save()
    publisher.groups.clear()
    Authenticator.objects.filter(user=publisher, type=Authenticator.Type.TOTP).delete()

    run_load_demo()

    publisher.refresh_from_db()
    assert publisher.check_password("publisher-demo-2026")
    assert list(publisher.groups.values_list("name", flat=True)) == ["publisher"]
    assert Authenticator.objects.filter(user=publisher, type=Authenticator.Type.TOTP).count() == 1


# ------------------------------------------------------------------------------------------------
# Idempotence and atomicity
# ------------------------------------------------------------------------------------------------
def test_load_demo_is_idempotent() -> None:
    run_load_demo()
    before = snapshot()

    output = run_load_demo()

    assert snapshot() == before
    assert "146: 0 created, 0 updated, 146 unchanged" in output
    assert "301: 0 created, 0 updated, 301 unchanged" in output
    assert "8: 0 created, 0 updated, 8 unchanged" in output
    assert "notices   0 created" in output


def test_load_demo_keeps_rows_it_does_not_know() -> None:
    extra = Area.objects.create(code="999999", kind=Area.Kind.MUNICIPALITY, name_ja="架空市")

    run_load_demo()

    assert Area.objects.filter(pk=extra.pk).exists()


def test_load_demo_writes_nothing_when_a_data_file_is_bad(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(DATA_DIR, data_dir)
    schools = data_dir / "schools.csv"
    schools.write_text(
        schools.read_text(encoding="utf-8").replace("福島県会津若松市東栄町7-7", "東京都千代田区"),
        encoding="utf-8",
    )

    with pytest.raises(DemoDataError, match="東京都千代田区"):
        load_demo(data_dir=data_dir)

    assert not Area.objects.exists()
    assert not Shelter.objects.exists()
    assert not User.objects.exists()


# ------------------------------------------------------------------------------------------------
# The command
# ------------------------------------------------------------------------------------------------
def test_load_demo_refuses_without_debug_or_flag(settings: Settings) -> None:
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--allow-production"):
        run_load_demo()

    assert not User.objects.exists()
    assert not Area.objects.exists()


def test_load_demo_runs_without_debug_when_production_is_allowed(
    settings: Settings,
) -> None:
    settings.DEBUG = False

    run_load_demo("--allow-production", "--quiet")

    assert User.objects.filter(email="admin@city.example.jp").exists()


def test_summary_lists_counts_accounts_and_how_to_get_a_totp_code() -> None:
    output = run_load_demo()

    assert "301: 301 created, 0 updated, 0 unchanged" in output
    for account in DEMO_ACCOUNTS:
        assert account.email in output
        assert account.password in output
    assert DEMO_TOTP_SECRET in output
    assert f"oathtool --totp -b {DEMO_TOTP_SECRET}" in output


def test_quiet_prints_nothing() -> None:
    assert run_load_demo("--quiet") == ""


def test_demo_resident_shares_some_data_through_real_consents_once() -> None:
    from consent import policy
    from consent.models import ConsentEvent

    call_command("load_demo", "--quiet", "--allow-production")
    call_command("load_demo", "--quiet", "--allow-production")
    resident = User.objects.get(email="resident@example.jp")
    assert ConsentEvent.objects.filter(subject_pseudonym=resident.pseudonym).count() == 3
    projection = policy.read_profile(
        resident_id=resident.pk,
        purpose="disaster_warnings",
        reader=policy.Reader(kind="task", name="test", recipient="city"),
        categories=["places", "language", "location"],
    )
    assert projection.categories == {"places", "language", "location"}
    assert len(projection.places) == 2
    # "Nearest to my home" on /shelters/ has a home to measure from.
    assert projection.home_location is not None


def test_demo_totp_code_prints_what_an_authenticator_app_shows() -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    with clock_stopped():
        call_command("demo_totp_code", stdout=out)
        assert out.getvalue().startswith(totp_code(DEMO_TOTP_SECRET))


def test_demo_totp_code_refuses_without_debug(settings: Settings) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("demo_totp_code")


# ------------------------------------------------------------------------------------------------
# Notices
# ------------------------------------------------------------------------------------------------
def test_the_demo_has_notices_of_every_category_in_every_state_once() -> None:
    run_load_demo()
    run_load_demo()

    notices = Notice.objects.all()
    assert notices.count() >= 25
    assert set(notices.values_list("category", flat=True)) == set(Category.values)
    assert set(notices.values_list("status", flat=True)) == {
        "draft", "in_review", "approved", "published", "expired", "superseded",
    }  # fmt: skip
    assert notices.filter(urgency="warning", needs_second_look=True).exists()
    assert notices.exclude(title_en="").exists()
    assert notices.exclude(body_easy="").exists()
    assert notices.filter(areas__isnull=False).exists()


def test_the_demo_school_letter_carries_a_pdf_and_asks_for_acknowledgement() -> None:
    run_load_demo()

    letter = Notice.objects.get(category="school")
    assert letter.status == "published"
    assert letter.requires_acknowledgement and not letter.is_public
    [attachment] = letter.attachments.all()
    assert attachment.content_type == "application/pdf"
    assert attachment.file.read().startswith(b"%PDF-1.4")


def test_the_demo_superseded_notice_points_at_its_update() -> None:
    run_load_demo()

    old = Notice.objects.get(status="superseded")
    assert old.superseded_by.get().status == "published"


@pytest.mark.parametrize(
    ("now", "sent"),
    [
        ("2026-12-03T03:00:00+00:00", "2026-12-03T05:40:00+09:00"),  # 12:00 in Japan
        ("2026-12-03T15:30:00+00:00", "2026-12-03T05:40:00+09:00"),  # 00:30 the next day
        ("2026-12-03T20:40:00+00:00", "2026-12-04T05:40:00+09:00"),  # 05:40 itself
    ],
)
def test_the_demo_snow_warning_is_never_sent_in_the_future(now: str, sent: str) -> None:
    from datetime import datetime

    from portal.demo.feeds import todays_snow_warning

    document = todays_snow_warning(datetime.fromisoformat(now)).decode()

    assert f"<sent>{sent}</sent>" in document


def test_the_consent_reports_have_a_verified_ledger_and_statistics_at_once() -> None:
    from consent.reports.selectors import latest_planning_statistics
    from consent.selectors import latest_ledger_verification

    run_load_demo()

    verification = latest_ledger_verification()
    assert verification is not None and verification.intact and verification.tallies_intact
    statistics = latest_planning_statistics()
    assert statistics is not None and statistics.registered >= 1
