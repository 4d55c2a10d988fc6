"""How long each consent report takes for a city: 120,000 residents and 1,000,000 ledger events.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/machiplus_bench \\
        .venv/bin/python benchmarks/bench_consent_reports.py 120000 1000000

Point it at a scratch database: it empties the consent ledger (triggers off, as the tables'
owner could) and deletes earlier benchmark residents. Setup, in bulk (COPY on PostgreSQL),
bypassing the services: residents in 100 neighbourhoods of 10 districts with birth years and a
home place; a ledger of about EVENTS events (each resident's share drawn at random) over the
last two years (grants, refusals, withdrawals and grants again, for every purpose, a few at the
counter), hash-chained and signed like the real one, with the consent states it leads to and
the weekly tallies rebuilt from it; 31 days of data-use log (a nightly read of every resident
sharing with the home page); 2,000 paper forms used by 20 clerks, 50 disputed.

With --reuse, the data of an earlier run is kept and only the timings are taken again.

Measured: the background jobs the reports rest on (the overview's counts, which beat keeps every
10 minutes; the roll-up of ended days' data use; the anonymous statistics through the gate; the
data-use check of one day; the ledger verification with its tally replay), then every report
page and every export through Django's test client as a consent officer after MFA: the page's
whole time, its gate, queries, suppression and template included. Each is run three times; the
best and the worst are printed. Target: every report under 2 s.
"""

from __future__ import annotations

import json
import logging
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as dt_time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")

import django  # noqa: E402

django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from allauth.mfa.models import Authenticator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Model  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.bench_policy_bulk_read import EMAIL_PREFIX, _triggers_off, clear, insert  # noqa: E402
from consent.catalogue import CATEGORY_BITS  # noqa: E402
from consent.ledger import GENESIS_HASH, chain_hash, event_payload  # noqa: E402
from consent.models import (  # noqa: E402
    ConsentEvent,
    ConsentState,
    ConsentTerms,
    CounterDispute,
    DataCategory,
    DataUseEvent,
    LedgerHead,
    PaperForm,
    PaperFormBatch,
)
from consent.reports.data_use_check import data_use_check  # noqa: E402
from consent.reports.services import data_use_days_roll_up, overview_snapshot_refresh  # noqa: E402
from consent.reports.statistics import planning_statistics_compute  # noqa: E402
from consent.reports.tallies import rebuild_tallies  # noqa: E402
from consent.selectors import all_current_terms  # noqa: E402
from consent.services import ledger_verify  # noqa: E402
from consent.signing import current_signing_key, event_signature  # noqa: E402
from portal.models import Area, ResidentPlace, ResidentProfile, User  # noqa: E402
from portal.staff.roles import Role  # noqa: E402
from tests.factories import DEFAULT_PASSWORD  # noqa: E402
from tests.helpers import log_in_with_mfa, with_totp  # noqa: E402

logger = logging.getLogger("bench_consent_reports")

REPEATS = 3
DAYS_OF_LOG = 31
CLERKS = 20
FORMS = 2000


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    residents = int(arguments[0]) if arguments else 20_000
    events = int(arguments[1]) if len(arguments) > 1 else residents * 8
    call_command("migrate", verbosity=0)
    if "--reuse" not in sys.argv:  # --reuse: time the reports on the data of an earlier run
        build(residents, events)
    measure(residents, events)


def build(residents: int, events: int) -> None:
    started = time.perf_counter()
    empty_the_consent_tables()
    clear()
    ids = build_residents(residents)
    stage("residents", started)
    build_ledger(ids, events)
    stage("ledger", started)
    build_data_use_log(ids)
    build_counter()
    analyse()
    stage("setup", started)


def measure(residents: int, events: int) -> None:
    figures: dict[str, Any] = {
        "residents": residents,
        "ledger_events": ConsentEvent.objects.count(),
        "data_use_rows": DataUseEvent.objects.count(),
    }
    figures["background"] = {
        "overview counts (beat, every 10 minutes)": once(overview_snapshot_refresh),
        "data-use roll-up of the ended days not kept yet": once(data_use_days_roll_up),
        "planning statistics (through the gate, nightly)": once(planning_statistics_compute),
        "data-use check of one day (nightly)": once(
            lambda: data_use_check(day=timezone.localdate() - timedelta(days=1))
        ),
        "ledger verification (chain, states, tallies; nightly)": once(ledger_verify),
    }
    client = officer_client()
    figures["pages"] = {name: timed(partial(_get, client, url)) for name, url in PAGES.items()}
    # The figures are the script's output, as JSON on standard output.
    sys.stdout.write(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")


def stage(name: str, started: float) -> None:
    logger.info("%s: %.0f s", name, time.perf_counter() - started)


PAGES = {
    "overview": "/staff/consent/reports/",
    "trends (26 weeks)": "/staff/consent/reports/trends/",
    "trends (52 weeks, warnings/places)": (
        "/staff/consent/reports/trends/?purpose=disaster_warnings&category=places&weeks=52"
    ),
    "areas: districts": "/staff/consent/reports/breakdown/",
    "areas: neighbourhoods": "/staff/consent/reports/breakdown/?by=area-neighbourhood",
    "ages": "/staff/consent/reports/breakdown/?by=age",
    "coverage: neighbourhoods": "/staff/consent/reports/coverage/?level=neighbourhood",
    "terms versions": "/staff/consent/reports/terms/",
    "data use (7 days)": "/staff/consent/reports/data-use/",
    "data use (31 days)": "/staff/consent/reports/data-use/?days=31",
    "counter consents": "/staff/consent/reports/counter/",
    "export: overview CSV": "/staff/consent/reports/export.csv?table=overview",
    "export: coverage JSON": (
        "/staff/consent/reports/export.json?table=coverage&level=neighbourhood"
    ),
    "export: data use CSV (31 days)": "/staff/consent/reports/export.csv?table=data-use&days=31",
}


def _get(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.get("Location"))


def timed(run: Callable[[], object]) -> dict[str, float]:
    seconds = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return {"best_s": round(min(seconds), 3), "worst_s": round(max(seconds), 3)}


def once(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return round(time.perf_counter() - started, 1)


def officer_client() -> Client:
    """A consent officer logged in through allauth's real steps: password, then a TOTP code."""
    officer, _created = User.objects.get_or_create(
        email=f"{EMAIL_PREFIX}officer@example.jp", defaults={"is_staff": True}
    )
    officer.set_password(DEFAULT_PASSWORD)
    officer.save()
    EmailAddress.objects.update_or_create(
        user=officer, email=officer.email, defaults={"verified": True, "primary": True}
    )
    officer.groups.add(*Group.objects.filter(name=Role.CONSENT_OFFICER.value))
    if not Authenticator.objects.filter(user=officer).exists():
        with_totp(officer)
    client = Client(HTTP_HOST="localhost")
    log_in_with_mfa(client, officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    return client


# ------------------------------------------------------------------------------------------------
# Test data
# ------------------------------------------------------------------------------------------------


def empty_the_consent_tables() -> None:
    tables = [
        DataUseEvent,
        ConsentState,
        ConsentEvent,
        LedgerHead,
        PaperForm,
        PaperFormBatch,
    ]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM consent_counterdispute")
        cursor.execute("DELETE FROM consent_datausecheck")
        for model in tables:
            with _triggers_off(cursor, model._meta.db_table):
                cursor.execute(f"DELETE FROM {model._meta.db_table}")


def build_residents(n: int) -> list[int]:
    neighbourhoods = build_areas()
    now = timezone.now()
    insert(User, [User(email=f"{EMAIL_PREFIX}{i}@example.jp", password="!") for i in range(n)])
    ids = list(
        User.objects.filter(email__startswith=EMAIL_PREFIX, is_staff=False)
        .order_by("id")
        .values_list("id", flat=True)
    )
    chooser = random.Random(7)
    insert(
        ResidentProfile,
        [
            ResidentProfile(resident_id=i, birth_year=chooser.randint(1935, 2008), updated_at=now)
            for i in ids
        ],
    )
    insert(
        ResidentPlace,
        [
            ResidentPlace(
                resident_id=i, kind="home", area=chooser.choice(neighbourhoods), created_at=now
            )
            for i in ids
        ],
    )
    return ids


def build_areas() -> list[Area]:
    municipality, _ = Area.objects.get_or_create(
        code="bench", defaults={"kind": "municipality", "name_ja": "ベンチ市"}
    )
    neighbourhoods = []
    for d in range(10):
        district, _ = Area.objects.get_or_create(
            code=f"bench-d{d}",
            defaults={"kind": "district", "name_ja": f"ベンチ第{d}地区", "parent": municipality},
        )
        for n in range(10):
            area, _ = Area.objects.get_or_create(
                code=f"bench-d{d}-n{n}",
                defaults={"kind": "neighbourhood", "name_ja": f"{d}-{n}町", "parent": district},
            )
            neighbourhoods.append(area)
    return neighbourhoods


def build_ledger(ids: list[int], total: int) -> None:
    """``total`` events spread over two years, each resident's a plausible history, chained and
    signed in time order; the consent states they lead to; the tallies rebuilt from them."""
    chooser = random.Random(11)
    terms = {t.purpose.code: t for t in all_current_terms()}
    categories = {c.code: c.pk for c in DataCategory.objects.all()}
    pseudonyms = dict(User.objects.filter(pk__in=ids).values_list("pk", "pseudonym"))
    clerks = [uuid.uuid4() for _ in range(CLERKS)]
    now = timezone.now()
    span = timedelta(days=700).total_seconds()
    planned: list[tuple[float, int, str, str, str]] = []  # (seconds ago, resident, kind, purpose)
    per_resident = total / len(ids)
    for resident_id in ids:
        count = max(1, round(chooser.uniform(per_resident * 0.5, per_resident * 1.5)))
        moments = sorted((chooser.uniform(0, span) for _ in range(count)), reverse=True)
        granted: dict[str, bool] = {}
        for ago in moments:
            purpose = chooser.choice(list(terms))
            if granted.get(purpose):
                kind = "withdraw" if chooser.random() < 0.4 else "grant"
            else:
                kind = "grant" if chooser.random() < 0.8 else "refuse"
            granted[purpose] = kind == "grant"
            channel = "counter" if chooser.random() < 0.01 else "web"
            planned.append((ago, resident_id, kind, purpose, channel))
    planned.sort(key=lambda event: -event[0])
    planned = planned[:total]
    head = GENESIS_HASH
    key = current_signing_key()
    rows: list[list[Any]] = []
    states: dict[tuple[int, str, str], tuple[str, int, int, Any]] = {}
    for number, (ago, resident_id, kind, purpose, channel) in enumerate(planned, start=1):
        t = terms[purpose]
        event = ConsentEvent(
            id=number,
            kind=kind,
            subject_pseudonym=pseudonyms[resident_id],
            terms=t,
            purpose_code=purpose,
            category_codes=sorted(t.category_codes),
            recipient_codes=sorted(t.recipient_codes),
            channel=channel,
            actor_kind="staff" if channel == "counter" else "resident",
            actor_pseudonym=chooser.choice(clerks) if channel == "counter" else None,
            paper_form_reference=f"MP-{number:06d}" if channel == "counter" else "",
            occurred_at=now - timedelta(seconds=ago),
            previous_hash=head,
        )
        event.hash = chain_hash(head, event_payload(event, terms_hash=t.content_hash))
        event.signature = event_signature(event.hash, key=key)
        head = event.hash
        rows.append([getattr(event, f.attname) for f in _event_fields()])
        status = {"grant": "granted", "refuse": "refused", "withdraw": "withdrawn"}[kind]
        for code in event.category_codes:
            states[(resident_id, purpose, code)] = (status, t.pk, number, event.occurred_at)
    _copy(ConsentEvent, _event_fields(), rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('consent_consentevent', 'id'), %s)",
                [len(rows)],
            )
        with _triggers_off(cursor, LedgerHead._meta.db_table):
            LedgerHead.objects.update_or_create(
                singleton=1, defaults={"last_hash": head, "event_count": len(rows)}
            )
    purposes = {t.purpose.code: t.purpose_id for t in terms.values()}
    valid = {t.pk: t.valid_days for t in ConsentTerms.objects.all()}
    with connection.cursor() as cursor, _triggers_off(cursor, ConsentState._meta.db_table):
        insert(
            ConsentState,
            [
                ConsentState(
                    resident_id=resident_id,
                    purpose_id=purposes[purpose],
                    category_id=categories[code],
                    status=status,
                    terms_id=terms_id,
                    event_id=event_id,
                    changed_at=at,
                    expires_at=at + timedelta(days=valid[terms_id])
                    if status == "granted" and valid[terms_id]
                    else None,
                )
                for (resident_id, purpose, code), (status, terms_id, event_id, at) in states.items()
            ],
        )
    rebuild_tallies()


def _event_fields() -> list[Any]:
    return [f for f in ConsentEvent._meta.concrete_fields if f.column]


def _copy(model: Any, fields: list[Any], rows: list[list[Any]]) -> None:
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [
                model(**{f.attname: value for f, value in zip(fields, row, strict=True)})
                for row in rows
            ],
            batch_size=5000,
        )
        return
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    sql = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        _triggers_off(cursor, model._meta.db_table),
        cursor.cursor.copy(sql) as copy,
    ):
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, list) else v for v in row])


def build_data_use_log(ids: list[int]) -> None:
    """A nightly read of every resident sharing with the home page, for 31 days."""
    sharing = set(
        ConsentState.objects.filter(
            purpose__code="personalised_home", status="granted"
        ).values_list("resident_id", flat=True)
    )
    mask = CATEGORY_BITS["places"] | CATEGORY_BITS["interests"]
    today = timezone.localdate()
    rows: list[Model] = []
    for back in range(DAYS_OF_LOG):
        day = today - timedelta(days=back)
        at = timezone.make_aware(datetime.combine(day, dt_time(3, 0)))
        rows += [
            DataUseEvent(
                resident_id=i,
                purpose_code="personalised_home",
                recipient_code="city",
                reader_kind="task",
                reader_name="the ranking of notices on your home page",
                day=day,
                category_mask=mask,
                use_count=1,
                first_at=at,
                last_at=at,
            )
            for i in ids
            if i in sharing
        ]
    insert(DataUseEvent, rows)


def build_counter() -> None:
    clerks = [f"{EMAIL_PREFIX}clerk{c}@example.jp" for c in range(CLERKS)]
    batch = PaperFormBatch.objects.create(
        number=1, first_serial=1, last_serial=FORMS, issued_to="窓口", issued_at=timezone.now()
    )
    now = timezone.now()
    PaperForm.objects.bulk_create(
        [
            PaperForm(
                reference=f"MP-{serial:06d}",
                serial=serial,
                batch=batch,
                status="used",
                used_at=now,
                used_by_email=clerks[serial % CLERKS],
                action="grant" if serial % 5 else "withdraw",
                purpose_code="disaster_warnings",
                category_codes=["places"],
                subject_pseudonym=uuid.uuid4(),
            )
            for serial in range(1, FORMS + 1)
        ],
    )
    for form in PaperForm.objects.order_by("serial")[:50]:
        CounterDispute.objects.create(paper_form=form, opened_at=now, reason="違います")


def analyse() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


if __name__ == "__main__":
    main()
