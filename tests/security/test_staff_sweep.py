"""Every URL that is neither public nor resident-facing is a staff page behind the staff gate.

The URL resolver is walked: a URL must be listed as public, sit in a resident-facing namespace,
belong to the admin site (whose every view passes the gate; sampled below), or be listed in
STAFF_PAGES with the permission it demands. Each staff page must then refuse an anonymous
visitor, a resident, a member of staff without its permission and one whose session has not
passed two-factor authentication, and open to staff with the permission after MFA. A new URL
fails the sweep until it is listed, and fails again until it is gated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.http import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from consent.services import paper_form_batch_issue
from portal.models import User
from portal.staff.admin_site import StaffAdminSite
from portal.staff.roles import ROLE_PERMISSIONS
from tests.factories import SchoolFactory, StaffFactory, UserFactory
from tests.helpers import log_in_with_mfa, with_totp

pytestmark = pytest.mark.django_db

# Open to everyone: the home page, shelters, the privacy notice, terms of use and contact page,
# plumbing, allauth's own pages and the language choice (whole included URL modules), and the
# error page previews mounted only with DEBUG.
PUBLIC_URL_NAMES = {
    "home",
    # The home page's warnings banner: the warnings for everyone, and for a signed-in resident
    # those of their own areas (tests/portal/test_home_page.py).
    "home_urgent",
    "shelters",
    "shelter_map",
    "consent:privacy",
    "about:terms",
    "about:contact",
    "healthz",
    "toggle_text_size",
    # allauth's recovery-code pages, mounted by portal to demand a recent second factor.
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
    # allauth's TOTP activation and email pages, mounted by portal: a staff account's first
    # authenticator needs its mailbox, and staff cannot change their address.
    "mfa_activate_totp",
    "account_email",
    # Notices for everyone: each view opens only what selectors.visible_notices allows
    # (tests/notices/test_public_pages.py).
    "notices:list",
    "notices:feed",
    "notices:detail",
    "notices:attachment",
    # The JSON API: plow devices authenticate with their vehicle's bearer token, never a
    # session (tests/snow/test_positions_api.py); its description is public.
    "api:plow_positions",
    "api:openapi",
    "snow:status",
    "snow:map_data",
    # The push service worker: a script, the same for everyone.
    "service_worker",
}
PUBLIC_URL_MODULES = {"allauth.urls", "django.conf.urls.i18n"}
PUBLIC_DEBUG_ROUTES = {"__errors__/404", "__errors__/500"}
# A resident's own pages: they check the resident's ownership (tests/security/test_idor_sweep.py).
# Notifications: the resident's own settings, and the email's unsubscribe link, whose signed token
# is its only credential (tests/notifications/test_unsubscribe.py).
RESIDENT_NAMESPACES = {"me", "consent", "letters", "for_you", "notifications"}
# Every admin view goes through StaffAdminSite.admin_view; two are sampled in STAFF_PAGES.
ADMIN_NAMESPACE = "admin"


@dataclass(frozen=True)
class StaffPage:
    """What a staff page demands beyond a staff power and a session that passed MFA."""

    permission: str | None
    admin: bool = False  # the admin also demands Django's is_staff flag
    kwargs: dict[str, Any] = field(default_factory=dict)
    # Makes the object the page shows (so that it opens with 200 rather than 404).
    prepare: Callable[[], object] | None = None
    # Makes an object that the holder of the permission may see (the services, not the gate,
    # decide which notices a member of staff may open): given that holder.
    prepare_for: Callable[[User], object] | None = None
    # What the page answers the holder's GET: a page that only takes POST answers 405 once
    # the gate has let the request through.
    opens_with: int = 200


def a_letter_of_their_school(holder: User) -> object:
    from portal.notices.models import SchoolStaffMembership
    from portal.notices.services import NoticeDraft, notice_approve, notice_create

    school = SchoolFactory.create()
    SchoolStaffMembership.objects.create(user=holder, school=school)
    letter = notice_create(
        author=holder,
        draft=NoticeDraft(
            category="school",
            title_ja="掃引のおたより",
            school_code=school.code,
            is_public=False,
            requires_acknowledgement=True,
        ),
    )
    return notice_approve(approver=holder, notice_id=letter.pk)


def a_batch_of_paper_forms() -> object:
    return paper_form_batch_issue(officer=StaffFactory.create(), size=1, issued_to="City hall")


def a_notice_of_their_department(holder: User) -> object:
    from portal.notices.models import Department
    from portal.notices.services import NoticeDraft, notice_create

    department = Department.objects.create(code="sweep", name_ja="掃引課")
    author = StaffFactory.create(roles=["publisher"])
    department.members.add(author, holder)
    holder.user_permissions.add(_permission("notices.edit_notices"))
    return notice_create(
        author=author,
        draft=NoticeDraft(category="city_news", title_ja="掃引", department_code="sweep"),
    )


def a_feed_source() -> object:
    from portal.feeds.models import Source

    return Source.objects.create(pk=1, name="sweep", kind="cap", url="http://127.0.0.1:9/a.xml")


def a_feed_run() -> object:
    from portal.feeds.models import Run

    return Run.objects.create(pk=1, kind="cap", origin="command", location="sweep.xml")


def a_plow_vehicle() -> object:
    from portal.snow.models import Vehicle

    return Vehicle.objects.create(pk=1, name="sweep")


NOTICE = {"notice_id": 1}
POST_ONLY = 405

STAFF_PAGES: dict[str, StaffPage] = {
    "staff:console": StaffPage(permission="portal.access_staff_console"),
    "consent_staff:counter": StaffPage(permission="consent.record_counter_consent"),
    "consent_staff:register": StaffPage(permission="consent.manage_paper_forms"),
    "consent_staff:register_batch": StaffPage(
        permission="consent.manage_paper_forms",
        kwargs={"number": 1},
        prepare=a_batch_of_paper_forms,
    ),
    **{
        f"consent_staff:{name}": StaffPage(permission="consent.view_consent_reports")
        for name in (
            "reports",
            "reports_trends",
            "reports_terms",
            "reports_data_use",
            "reports_counter",
            "reports_breakdown",
            "reports_coverage",
        )
    },
    # Without a table parameter an export answers 400, once the gate has let the request in.
    "consent_staff:reports_csv": StaffPage(
        permission="consent.view_consent_reports", opens_with=400
    ),
    "consent_staff:reports_json": StaffPage(
        permission="consent.view_consent_reports", opens_with=400
    ),
    "notices_staff:list": StaffPage(permission="portal.access_staff_console"),
    "notices_staff:new": StaffPage(permission="portal.access_staff_console"),
    "notices_staff:review": StaffPage(permission="notices.review_notices"),
    "notices_staff:second_look": StaffPage(permission="notices.review_notices"),
    "notices_staff:edit": StaffPage(
        permission="portal.access_staff_console",
        kwargs=NOTICE,
        prepare_for=a_notice_of_their_department,
    ),
    "notices_staff:history": StaffPage(
        permission="portal.access_staff_console",
        kwargs=NOTICE,
        prepare_for=a_notice_of_their_department,
    ),
    "notifications_staff:deliveries": StaffPage(
        permission="portal.access_staff_console",
        kwargs=NOTICE,
        prepare_for=a_notice_of_their_department,
    ),
    "notices_staff:preview": StaffPage(
        permission="portal.access_staff_console", opens_with=POST_ONLY
    ),
    "notices_staff:estimate": StaffPage(
        permission="portal.access_staff_console", opens_with=POST_ONLY
    ),
    "notices_staff:follow_up": StaffPage(
        permission="notices.publish_school_letters",
        kwargs=NOTICE,
        prepare_for=a_letter_of_their_school,
    ),
    **{
        f"notices_staff:{name}": StaffPage(
            permission=permission, kwargs=kwargs, opens_with=POST_ONLY
        )
        for name, permission, kwargs in (
            ("attach", "portal.access_staff_console", NOTICE),
            ("detach", "portal.access_staff_console", {"attachment_id": 1}),
            ("submit", "portal.access_staff_console", NOTICE),
            ("approve", "portal.access_staff_console", NOTICE),
            ("send_back", "notices.review_notices", NOTICE),
            ("emergency_publish", "notices.emergency_publish", NOTICE),
            ("take_second_look", "notices.review_notices", NOTICE),
            ("withdraw", "portal.access_staff_console", NOTICE),
        )
    },
    "feeds_staff:overview": StaffPage(permission="feeds.view_run"),
    "feeds_staff:source": StaffPage(
        permission="feeds.view_run", kwargs={"source_id": 1}, prepare=a_feed_source
    ),
    "feeds_staff:run": StaffPage(
        permission="feeds.view_run", kwargs={"run_id": 1}, prepare=a_feed_run
    ),
    "feeds_staff:poll": StaffPage(
        permission="feeds.poll_source", kwargs={"source_id": 1}, opens_with=POST_ONLY
    ),
    "snow_staff:vehicles": StaffPage(permission="snow.manage_vehicles"),
    "snow_staff:vehicle": StaffPage(
        permission="snow.manage_vehicles", kwargs={"vehicle_id": 1}, prepare=a_plow_vehicle
    ),
    "snow_staff:token_issue": StaffPage(
        permission="snow.manage_vehicles", kwargs={"vehicle_id": 1}, opens_with=POST_ONLY
    ),
    "snow_staff:operations": StaffPage(permission="snow.manage_vehicles", opens_with=POST_ONLY),
    "snow_staff:token_revoke": StaffPage(
        permission="snow.manage_vehicles", kwargs={"token_id": 1}, opens_with=POST_ONLY
    ),
    "admin:index": StaffPage(permission=None, admin=True),
    "admin:consent_consentterms_changelist": StaffPage(
        permission="consent.view_consentterms", admin=True
    ),
}

VISITORS = (
    "anonymous",
    "resident",
    "staff_without_the_permission",
    "staff_without_mfa_this_session",
)


# ---------------------------------------------------------------------------------------------
# Walking the resolver
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name", or the route itself for an unnamed URL
    namespace: str | None
    modules: tuple[str, ...]  # the included URL modules it sits in


def routes() -> Iterator[Route]:
    def walk(
        patterns: Sequence[Any], prefix: str, namespace: str | None, modules: tuple[str, ...]
    ) -> Iterator[Route]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                module = getattr(pattern.urlconf_name, "__name__", None)
                yield from walk(
                    pattern.url_patterns,
                    prefix + str(pattern.pattern),
                    inner,
                    (*modules, module) if module else modules,
                )
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if pattern.name:
                    key = f"{namespace}:{pattern.name}" if namespace else pattern.name
                else:
                    key = route
                yield Route(key=key, namespace=namespace, modules=modules)

    yield from walk(get_resolver().url_patterns, "", None, ())


def is_exempt(route: Route) -> bool:
    return (
        route.key in PUBLIC_URL_NAMES
        or route.key in PUBLIC_DEBUG_ROUTES
        or bool(PUBLIC_URL_MODULES.intersection(route.modules))
        or route.namespace in RESIDENT_NAMESPACES
        or route.namespace == ADMIN_NAMESPACE
    )


def unlisted_urls() -> set[str]:
    return {r.key for r in routes() if not is_exempt(r) and r.key not in STAFF_PAGES}


# ---------------------------------------------------------------------------------------------
# The visitors
# ---------------------------------------------------------------------------------------------


def _permission(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def staff_member(*, is_staff: bool, permissions: set[str]) -> User:
    user = with_totp(UserFactory.create(is_staff=is_staff))
    user.user_permissions.add(*(_permission(name) for name in sorted(permissions)))
    return user


def holder_of(page: StaffPage) -> User:
    """Staff with exactly what the page demands, and an authenticator app."""
    permissions = {page.permission} if page.permission else set()
    return staff_member(is_staff=page.admin, permissions=permissions)


def lacking(page: StaffPage) -> User:
    """Staff with every power the roles give, and the staff flag, but not the page's own."""
    every_role_permission = {name for names in ROLE_PERMISSIONS.values() for name in names}
    if page.permission is None:  # what the page demands is the staff flag itself
        return staff_member(is_staff=False, permissions=every_role_permission)
    return staff_member(is_staff=True, permissions=every_role_permission - {page.permission})


def visit(client: Client, visitor: str, page: StaffPage, url: str) -> HttpResponseBase:
    if visitor == "resident":
        client.force_login(UserFactory.create())
    elif visitor == "staff_without_the_permission":
        log_in_with_mfa(client, lacking(page))
    elif visitor == "staff_without_mfa_this_session":
        client.force_login(holder_of(page))
    return client.get(url)


def refused(visitor: str, response: HttpResponseBase) -> bool:
    status, location = response.status_code, response.get("Location", "")
    to_login = status == 302 and location.startswith(reverse("account_login"))
    if visitor == "anonymous":
        return to_login
    if visitor == "resident":
        return status == 403 or to_login
    if visitor == "staff_without_the_permission":
        return status == 403
    if visitor == "staff_without_mfa_this_session":
        return status == 302 and location.startswith(reverse("mfa_reauthenticate"))
    raise AssertionError(f"unknown visitor {visitor}")


# ---------------------------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------------------------


def test_every_url_is_public_resident_facing_admin_or_a_listed_staff_page() -> None:
    assert unlisted_urls() == set()


def test_every_listed_staff_page_exists() -> None:
    for url_name, page in STAFF_PAGES.items():
        reverse(url_name, kwargs=page.kwargs)


def test_every_admin_view_is_behind_the_staff_gate() -> None:
    assert isinstance(admin.site, StaffAdminSite)


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("url_name", sorted(STAFF_PAGES))
def test_staff_page_refuses(client, url_name, visitor) -> None:
    page = STAFF_PAGES[url_name]
    if page.prepare:
        page.prepare()
    response = visit(client, visitor, page, reverse(url_name, kwargs=page.kwargs))
    assert refused(visitor, response), (
        f"{url_name} answered {visitor} with {response.status_code} {response.get('Location')}"
    )


@pytest.mark.parametrize("url_name", sorted(STAFF_PAGES))
def test_staff_page_opens_to_staff_with_its_permission_after_mfa(client, url_name) -> None:
    page = STAFF_PAGES[url_name]
    if page.prepare:
        page.prepare()
    holder = holder_of(page)
    kwargs = page.kwargs
    if page.prepare_for:
        made = page.prepare_for(holder)
        kwargs = dict.fromkeys(kwargs, made.pk)  # type: ignore[attr-defined]
    log_in_with_mfa(client, holder)
    assert client.get(reverse(url_name, kwargs=kwargs)).status_code == page.opens_with


# ---------------------------------------------------------------------------------------------
# The sweep catches what it is for (tests/security/sweep_urls.py adds pages to the site)
# ---------------------------------------------------------------------------------------------

REPORT = StaffPage(permission="portal.access_staff_console")


@pytest.mark.urls("tests.security.sweep_urls")
def test_the_sweep_finds_urls_that_are_listed_nowhere() -> None:
    assert unlisted_urls() == {"ungated_report", "ungated_report_under_staff", "gated_report"}


@pytest.mark.urls("tests.security.sweep_urls")
@pytest.mark.parametrize("visitor", VISITORS)
def test_the_sweep_fails_an_ungated_page_for_every_visitor(client, visitor) -> None:
    assert not refused(visitor, visit(client, visitor, REPORT, "/reports/"))


@pytest.mark.urls("tests.security.sweep_urls")
@pytest.mark.parametrize("visitor", VISITORS)
def test_the_middleware_alone_does_not_pass_the_sweep(client, visitor) -> None:
    """Under /staff/ the backstop refuses the outsiders, but the page's permission is the
    page's own gate's to check."""
    response = visit(client, visitor, REPORT, "/staff/reports/")
    assert refused(visitor, response) == (visitor != "staff_without_the_permission")


@pytest.mark.urls("tests.security.sweep_urls")
@pytest.mark.parametrize("visitor", VISITORS)
def test_the_sweep_passes_a_page_behind_staff_view(client, visitor) -> None:
    assert refused(visitor, visit(client, visitor, REPORT, "/gated/reports/"))
