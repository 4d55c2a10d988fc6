"""``manage.py import_places``: a real city imports its areas, shelters and schools with the
same code the demo uses."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.demo.loader import DATA_DIR
from portal.models import Area, School, Shelter

pytestmark = pytest.mark.django_db


def import_places(*args: str) -> str:
    out = StringIO()
    call_command("import_places", *args, stdout=out)
    return out.getvalue()


def all_files(data_dir: Path = DATA_DIR) -> list[str]:
    return [
        f"--areas={data_dir / 'areas.json'}",
        f"--shelters={data_dir / 'gsi_shelters'}",
        f"--schools={data_dir / 'schools.csv'}",
    ]


def test_import_places_creates_areas_shelters_and_schools() -> None:
    output = import_places(*all_files())

    assert Area.objects.count() == 146
    assert Shelter.objects.count() == 301
    assert School.objects.count() == 35
    assert "146: 146 created, 0 updated, 0 unchanged" in output


def test_import_places_twice_changes_nothing() -> None:
    import_places(*all_files())

    output = import_places(*all_files())

    assert "301: 0 created, 0 updated, 301 unchanged" in output


def test_import_places_can_import_areas_alone() -> None:
    import_places(f"--areas={DATA_DIR / 'areas.json'}")

    assert Area.objects.count() == 146
    assert not Shelter.objects.exists()


def test_a_shelter_file_with_an_address_outside_the_areas_changes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(DATA_DIR, data_dir)
    shelters = next((data_dir / "gsi_shelters").glob("evacuation_*.geojson"))
    document = json.loads(shelters.read_text(encoding="utf-8"))
    document["features"][-1]["properties"]["住所"] = "東京都千代田区千代田1-1"
    shelters.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(CommandError, match="Nothing imported"):
        import_places(*all_files(data_dir))

    assert not Area.objects.exists()
    assert not Shelter.objects.exists()


def test_a_malformed_areas_file_is_refused_with_its_path(tmp_path: Path) -> None:
    broken = tmp_path / "areas.json"
    broken.write_text("{not json", encoding="utf-8")

    with pytest.raises(CommandError, match="areas.json: not valid JSON"):
        import_places(f"--areas={broken}")


def areas_file(tmp_path: Path, **municipality: object) -> Path:
    document = {
        "municipalities": [
            {
                "code": "099999",
                "name_ja": "試験市",
                "districts": [{"code": "099999-a", "name_ja": "甲地区", "neighbourhoods": []}],
                **municipality,
            }
        ]
    }
    path = tmp_path / "areas.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [("-999.9", "999.9"), ("139.9", "37.5"), ("NaN", "139.9"), ("37.5", "Infinity")],
)
def test_coordinates_outside_japan_are_refused(tmp_path: Path, latitude, longitude) -> None:
    path = areas_file(tmp_path, latitude=latitude, longitude=longitude)

    with pytest.raises(CommandError, match="coordinate"):
        import_places(f"--areas={path}")

    assert not Area.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", None, ["甲"]])
def test_an_area_without_a_name_is_refused(tmp_path: Path, name) -> None:
    # An empty name would match the start of every address and swallow every shelter.
    path = areas_file(
        tmp_path, districts=[{"code": "099999-a", "name_ja": name, "neighbourhoods": []}]
    )

    with pytest.raises(CommandError, match="name_ja"):
        import_places(f"--areas={path}")

    assert not Area.objects.exists()


def test_a_site_named_like_a_school_takes_the_school_s_english_name() -> None:
    import_places(*all_files())

    site = Shelter.objects.filter(name_ja="一箕中学校").first()

    assert site is not None and site.name_en == "Ikki Junior High School"


def test_the_shelter_names_file_gives_sites_their_english_names(tmp_path: Path) -> None:
    names = tmp_path / "names.csv"
    names.write_text("name_ja,name_en\n物流修景緑地,Logistics Park Green\n", encoding="utf-8")

    import_places(*all_files(), f"--shelter-names={names}")

    assert Shelter.objects.get(name_ja="物流修景緑地").name_en == "Logistics Park Green"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("japanese,english\n物流修景緑地,Park\n", "header must name the columns"),
        ("name_ja,name_en\n物流修景緑地,\n", "line 2: both name_ja and name_en are needed"),
        ("name_ja,name_en\n物流修景緑地,Park\n物流修景緑地,Green\n", "two English names"),
        ("name_ja,name_en\n物流修景緑地," + "x" * 201 + "\n", "longer than 200"),
    ],
)
def test_a_bad_shelter_names_file_changes_nothing(tmp_path: Path, content, reason) -> None:
    names = tmp_path / "names.csv"
    names.write_text(content, encoding="utf-8")

    with pytest.raises(CommandError, match=reason):
        import_places(*all_files(), f"--shelter-names={names}")

    assert not Shelter.objects.exists()
