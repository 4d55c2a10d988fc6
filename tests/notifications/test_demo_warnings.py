"""What the README's "try it" does with the demo: the demo resident asked for warnings by email,
and the sample heavy-rain alert, its update and its cancellation (portal/demo/data/feeds/try/)
reach them as an alert, an update and a cancellation, once each."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from portal.demo.loader import DEMO_RESIDENT_EMAIL
from portal.notifications.models import Delivery

pytestmark = pytest.mark.django_db

TRY = Path(__file__).resolve().parents[2] / "portal" / "demo" / "data" / "feeds" / "try"


@pytest.fixture
def demo(settings, tmp_path) -> None:
    settings.DEBUG = True  # load_demo refuses to run otherwise
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", stdout=StringIO(), stderr=StringIO())


def ingest(name: str) -> None:
    call_command("ingest_cap", str(TRY / name), stdout=StringIO(), stderr=StringIO())


def test_the_sample_warning_its_update_and_cancellation_reach_the_demo_resident(
    demo, smtp_mailbox, worker_tasks
) -> None:
    worker_tasks()  # what loading the demo sent
    before = len(smtp_mailbox.to(DEMO_RESIDENT_EMAIL))

    for name in ("heavy_rain_alert.xml", "heavy_rain_update.xml", "heavy_rain_cancel.xml"):
        ingest(name)
        worker_tasks()
    ingest("heavy_rain_alert.xml")  # the same document again
    worker_tasks()

    subjects = [m["Subject"] for m in smtp_mailbox.to(DEMO_RESIDENT_EMAIL)[before:]]
    assert subjects == [
        "【警報】会津若松市に大雨警報（デモ）",
        "【警報】更新：会津若松市に大雨警報（デモ・第2報）",
        "取消：会津若松市に大雨警報（デモ・第2報）",
    ]
    assert Delivery.objects.filter(resident__email=DEMO_RESIDENT_EMAIL).count() == before + 3
