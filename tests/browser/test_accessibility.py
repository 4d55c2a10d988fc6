"""Every page a person can reach passes axe-core's WCAG 2.2 AA rules.

Each kind of visitor gets one browser context (tests/browser/axe.py) and walks the pages it can
open, as a person would: an anonymous visitor, someone signing up or in by an emailed code, a
resident who shares data, one who shares nothing yet, a resident's account and two-factor
settings, staff after a real two-factor login, and the error pages. Pages are checked in the
states that change what is on them: with a form refused (error summary), with a list changed
or a confirmation step swapped in by htmx, in large-text mode, and the main pages on a screen
320 px wide, where nothing but a wide table may scroll sideways (WCAG 1.4.10, which axe does
not check). Japanese, the default, is swept everywhere; English on every page but a
resident's account settings (allauth's own language) and the pages of a resident who shares
nothing (the same templates as with data). A test fails with the list of what axe found:
page, rule, impact, elements and help.

The URL resolver is walked: every URL is listed in SWEPT with the visitor whose sweep opens
it, or in NOT_PAGES with the reason it is not a page of its own. A new URL fails
test_every_url_is_swept_or_not_a_page until it is listed, and each visitor's sweep fails if it
did not open every page listed for it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from consent.flows import CounterRequest, counter_consent_record
from consent.models import PaperForm
from consent.reports.data_use_check import data_use_check
from consent.reports.statistics import planning_statistics_compute
from consent.services import counter_dispute_open, paper_form_batch_issue
from portal.feeds.models import Run, Source
from portal.management.commands.generate_vapid_keys import generate_vapid_keys
from portal.notices.models import Department, SchoolStaffMembership
from portal.notices.services import NoticeDraft, notice_approve, notice_create, notice_submit
from portal.notifications.models import Delivery
from portal.notifications.services import Preferences, preferences_update
from portal.notifications.tokens import unsubscribe_token
from portal.residents import services as profile_services
from portal.snow.models import AreaPlowStatus
from recommendations.services import feeds_rescore
from tests.browser.axe import LOCALES, NO_PAGE, Sweep, axe_context, axe_violations
from tests.browser.steps import CODE, log_in, submit_main_form
from tests.factories import (
    DEFAULT_PASSWORD,
    DistrictFactory,
    NoticeFactory,
    SchoolFactory,
    ShelterFactory,
    StaffFactory,
    UserFactory,
)
from tests.helpers import (
    TOTP_SECRET,
    grant,
    start_of_next_totp_window,
    terms_of,
    totp_code,
    with_totp,
    withdraw,
)
from tests.security.test_staff_sweep import routes

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = sorted(LOCALES)

# A 1280 px window zoomed to 400 %, or a small phone.
NARROW = {"width": 320, "height": 640}

# Elements wider than the window, outside the wide tables that scroll in a region of their own.
# Inside a table's scroll region or a map (which clips its panes, some of them huge) nothing
# moves the page; the region and the map themselves are still checked.
SIDEWAYS = """() => [...document.body.querySelectorAll('*')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('.table-scroll')
    && !(e.parentElement && e.parentElement.closest('.leaflet-container')))
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + e.className)
"""

# ---------------------------------------------------------------------------------------------
# What is swept, and by whom
# ---------------------------------------------------------------------------------------------

SWEPT: dict[str, str] = {
    # Anyone
    "home": "anonymous",
    "shelters": "anonymous",
    "snow:status": "anonymous",
    "notices:list": "anonymous",
    "notices:detail": "anonymous",
    "consent:privacy": "anonymous",
    "about:terms": "anonymous",
    "about:contact": "anonymous",
    "account_login": "anonymous",
    "account_signup": "anonymous",
    "account_reset_password": "anonymous",
    "account_reset_password_done": "anonymous",
    "account_reset_password_from_key": "anonymous",
    "account_reset_password_from_key_done": "anonymous",
    "account_inactive": "anonymous",
    # Signing up, or in by an emailed code
    "account_email_verification_sent": "entrance",
    "account_request_login_code": "entrance",
    "account_confirm_login_code": "entrance",
    "account_set_password": "entrance",
    # A resident's own pages
    "me:data": "resident",
    "me:profile": "resident",
    "me:profile_section": "resident",
    "me:place_remove": "resident",
    "me:child_remove": "resident",
    "me:delete": "resident",
    "letters:list": "resident",
    "letters:letter": "resident",
    "for_you:list": "resident",
    "for_you:notice": "resident",
    "consent:overview": "resident",
    "consent:setup_step": "resident",
    "consent:setup_done": "resident",
    "consent:purpose": "resident",
    "consent:withdraw_purpose": "resident",
    "consent:withdraw_category": "resident",
    "consent:receipt": "resident",
    "consent:dispute": "resident",
    "account_reauthenticate": "resident",
    "account_logout": "resident",
    # Notifications: the resident's settings, and every email's unsubscribe link
    "notifications:preferences": "notifications",
    "notifications:unsubscribe": "notifications",
    "notifications:webhook": "notifications",
    "notifications_staff:deliveries": "notifications",
    # A resident's account and two-factor settings
    "account_email": "account settings",
    "account_change_password": "account settings",
    "account_request_reauthentication_code": "account settings",
    "account_confirm_reauthentication_code": "account settings",
    "mfa_index": "account settings",
    "mfa_activate_totp": "account settings",
    "mfa_view_recovery_codes": "account settings",
    "mfa_generate_recovery_codes": "account settings",
    "mfa_deactivate_totp": "account settings",
    "mfa_reauthenticate": "account settings",
    # Staff, after two-factor authentication
    "mfa_authenticate": "staff",
    "staff:console": "staff",
    "consent_staff:counter": "staff",
    "consent_staff:register": "staff",
    "consent_staff:register_batch": "staff",
    # The notices console, after two-factor authentication
    "notices_staff:list": "notices staff",
    "notices_staff:new": "notices staff",
    "notices_staff:edit": "notices staff",
    "notices_staff:history": "notices staff",
    "notices_staff:review": "notices staff",
    "notices_staff:second_look": "notices staff",
    # The feeds' pages, for a disaster officer after two-factor authentication
    "feeds_staff:overview": "feeds staff",
    "feeds_staff:source": "feeds staff",
    "feeds_staff:run": "feeds staff",
    "snow_staff:vehicles": "snow staff",
    # The consent reports, for an administrator after two-factor authentication
    "consent_staff:reports": "reports staff",
    "consent_staff:reports_trends": "reports staff",
    "consent_staff:reports_terms": "reports staff",
    "consent_staff:reports_data_use": "reports staff",
    "consent_staff:reports_counter": "reports staff",
    "consent_staff:reports_breakdown": "reports staff",
    "consent_staff:reports_coverage": "reports staff",
    "snow_staff:vehicle": "snow staff",
}

NOT_PAGES: dict[str, str] = {
    "healthz": "JSON for the load balancer",
    "me:export": "a JSON download",
    "notices:feed": "an Atom feed",
    "api:plow_positions": "the JSON API for plow devices (POST only)",
    "api:openapi": "the API's OpenAPI description (JSON)",
    "snow:map_data": "the plows' map data (GeoJSON), drawn on snow:status",
    "shelter_map": "the shelters' map data (GeoJSON), drawn on shelters",
    "notices:attachment": "a file download",
    "letters:attachment": "a file download",
    "letters:acknowledge": "POST only; redirects to the letter",
    "home_urgent": "the home page's warnings banner (htmx), swept on home with a warning in force",
    "for_you:action": "POST only; redirects home, or answers the notice's item (htmx), swept as "
    "home with a notice set aside",
    "consent:receipt_json": "a JSON download",
    "mfa_download_recovery_codes": "a text download",
    "toggle_text_size": "POST only; redirects back (large text is swept on home and profile)",
    "set_language": "POST only; redirects back",
    "consent:setup": "redirects to the first step (consent:setup_step)",
    "me:place_add": "POST only; answers with the profile page or its places section, swept as "
    "me:profile with a refused place",
    "me:child_add": "POST only; answers like me:place_add",
    "notices_staff:preview": "POST only (htmx); answers the editor's preview region, swept as "
    "notices_staff:new with a preview",
    "notices_staff:estimate": "POST only (htmx); answers the editor's estimate region, swept as "
    "notices_staff:new (the region's heading, hint and button)",
    "notices_staff:follow_up": "a school's table of families, built from the components of the "
    "queue pages; its content is tested in tests/notices/test_console.py",
    "notices_staff:attach": "POST only; redirects to the editor, or answers it with the refusal",
    "notices_staff:detach": "POST only; redirects to the editor",
    "notices_staff:submit": "POST only; redirects to the editor",
    "notices_staff:approve": "POST only; redirects to the editor or the review queue",
    "notices_staff:send_back": "POST only; redirects to the editor or the review queue",
    "notices_staff:emergency_publish": "POST only; redirects to the editor",
    "notices_staff:take_second_look": "POST only; redirects to the editor or the queue",
    "notices_staff:withdraw": "POST only; redirects to the editor",
    "feeds_staff:poll": "POST only; redirects to the source's page, swept with its message",
    "snow_staff:token_issue": "POST only; answers the vehicle's page with its new token, swept "
    "as snow_staff:vehicles after registering",
    "snow_staff:token_revoke": "POST only; redirects to the vehicle's page",
    "snow_staff:operations": "POST only; redirects to the vehicles' page",
    "notifications:webhook_secret": "POST only; answers the settings with the new secret",
    "notifications:webhook_remove": "POST only; redirects to the settings",
    "notifications:push_subscribe": "POST only (JSON from the subscribe button's script)",
    "notifications:push_remove": "POST only; redirects to the settings",
    "service_worker": "the push service worker's script",
    "consent_staff:reports_csv": "a CSV download (tests/browser/test_consent_reports.py)",
    "consent_staff:reports_json": "a JSON download",
    "__errors__/404": "DEBUG-only preview of 404.html, which test_error_pages sweeps",
    "__errors__/500": "DEBUG-only preview of 500.html, which test_error_pages sweeps",
}
# Django's own admin site is not swept: its templates and scripts are Django's, not the
# portal's to fix.
ADMIN_NAMESPACE = "admin"


def pages_of(visitor: str) -> set[str]:
    return {url_name for url_name, owner in SWEPT.items() if owner == visitor}


def assert_swept(sweep: Sweep, visitor: str) -> None:
    unchecked = pages_of(visitor) - set(sweep.checked)
    assert not unchecked, f"the {visitor} sweep did not open {sorted(unchecked)}"
    sweep.assert_clean()


def test_every_url_is_swept_or_not_a_page() -> None:
    url_names = {route.key for route in routes() if route.namespace != ADMIN_NAMESPACE}
    assert url_names - NOT_PAGES.keys() - SWEPT.keys() == set(), "URLs without an axe check"
    assert SWEPT.keys() - url_names == set(), "listed pages that do not exist"
    assert SWEPT.keys() & NOT_PAGES.keys() == set()


def test_the_checks_find_what_they_are_for(browser, live_server) -> None:
    """The sweep is not vacuous: axe runs on the page and its findings are read, and a page
    wider than the window is caught."""
    with axe_context(browser, live_server.url, language="ja") as page:
        page.set_content("<!DOCTYPE html><html><body><main><input></main></body></html>")
        violations = {violation.rule: violation for violation in axe_violations(page)}
        page.set_content('<html lang="ja"><body><div class="wide" style="width: 9000px"></div>')
        assert page.evaluate(SIDEWAYS) == ["div wide"]
    assert {"html-has-lang", "document-title", "label"} <= violations.keys()
    assert violations["label"].impact == "critical"
    assert violations["label"].targets == ("input",)
    assert violations["label"].help_url.startswith("https://")


# ---------------------------------------------------------------------------------------------
# Data the pages show
# ---------------------------------------------------------------------------------------------


def district_with_shelters() -> Any:
    district = DistrictFactory.create(name_ja="鶴城地区", name_en="Kakujo")
    ShelterFactory.create(area=district, name_ja="鶴城小学校")
    ShelterFactory.create(area=district, name_ja="会津若松市文化センター", for_earthquake=False)
    return district


def resident_with_data(home: Any) -> Any:
    """A resident living in ``home`` who shares something of every kind, with a consent
    history (a withdrawal too)."""
    resident = UserFactory.create()
    grant(resident, "personalised_home", "age", "places", "household", "interests", "language")
    grant(resident, "disaster_warnings", "places", "location")
    grant(resident, "school_letters", "household")
    grant(resident, "planning_statistics", "age")
    withdraw(resident, purpose="planning_statistics")
    profile_services.profile_set_birth_year(resident_id=resident.pk, birth_year=1980)
    profile_services.profile_set_language(
        resident_id=resident.pk, preferred_language="ja", large_text=True, easy_japanese=False
    )
    profile_services.profile_set_home_location(
        resident_id=resident.pk, latitude=Decimal("37.4948"), longitude=Decimal("139.9298")
    )
    profile_services.profile_set_interests(resident_id=resident.pk, interest_codes=["sports"])
    profile_services.place_add(resident_id=resident.pk, kind="home", area_code=home.code)
    recorded_at_the_counter(resident)
    return resident


def published_notices() -> Any:
    """A warning and a notice with an easy-Japanese text, published through review; returns the
    latter."""
    department = Department.objects.create(code="disaster", name_ja="危機管理課")
    publisher = StaffFactory.create(roles=["publisher"])
    department.members.add(publisher)
    approver = StaffFactory.create(roles=["approver"])
    notices = [
        notice_create(
            author=publisher,
            draft=NoticeDraft(
                category=category,
                urgency=urgency,
                title_ja=title,
                title_en=title_en,
                body_ja="**3月1日**から工事を行います。",
                body_easy="3がつ1にちから こうじを します。",
                department_code=department.code,
            ),
        )
        for category, urgency, title, title_en in (
            ("disaster", "warning", "大雪警報", "Heavy snow warning"),
            ("city_news", "information", "道路工事のお知らせ", ""),
        )
    ]
    for notice in notices:
        notice_submit(author=publisher, notice_id=notice.pk)
        notice_approve(approver=approver, notice_id=notice.pk)
    return notices[-1]


def school_letter(school: Any) -> Any:
    """A letter to every family of the school that asks to be confirmed, published by its
    staff."""
    teacher = StaffFactory.create(roles=["school_staff"])
    SchoolStaffMembership.objects.create(user=teacher, school=school)
    letter = notice_create(
        author=teacher,
        draft=NoticeDraft(
            category="school",
            title_ja="遠足のお知らせ",
            body_ja="**10月3日**に遠足に行きます。",
            school_code=school.code,
            is_public=False,
            requires_acknowledgement=True,
        ),
    )
    notice_approve(approver=teacher, notice_id=letter.pk)
    return letter


def recorded_at_the_counter(resident: Any) -> str:
    """A paper form typed in at the counter for the resident; returns its reference."""
    batch = paper_form_batch_issue(
        officer=StaffFactory.create(roles=["consent_officer"]), size=2, issued_to="市民課窓口"
    )
    form = counter_consent_record(
        staff=StaffFactory.create(roles=["counter_clerk"]),
        request=CounterRequest(
            paper_form_reference=batch.forms.order_by("serial")[0].reference,
            email=resident.email,
            terms=terms_of("disaster_warnings"),
            category_codes=["places"],
            withdraw=False,
        ),
    )
    return form.reference


def fresh_totp_code(time_machine: Any, secret: str) -> str:
    """A code of the next 30-second window, never used before (see test_signup_flow)."""
    time_machine.move_to(start_of_next_totp_window(), tick=True)
    return totp_code(secret)


def submit(page: Any, button: str | None = None) -> None:
    """Press a form's button (the main form's by default) and wait for the page it leads to:
    the same address, when the form is refused."""
    with page.expect_navigation():
        if button is None:
            submit_main_form(page)
        else:
            page.locator(button).click()


def emailed_code(mailbox: Any, email: str) -> str:
    match = CODE.search(mailbox.bodies_to(email)[-1])
    assert match, "no code in the email"
    return match.group(0)


# ---------------------------------------------------------------------------------------------
# The sweeps
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_anonymous_pages(browser, live_server, smtp_mailbox, language) -> None:
    district = district_with_shelters()
    AreaPlowStatus.objects.create(area=district, last_plowed_at=timezone.now())
    ShelterFactory.create()
    resident = UserFactory.create()
    notice = published_notices()
    sweep = Sweep(f"an anonymous visitor ({language})")
    with axe_context(browser, live_server.url, language=language) as page:
        page.goto("/")
        sweep.check(page, "home")
        page.goto("/shelters/")
        sweep.check(page, "shelters")
        page.locator("#area-filter").select_option(district.code)
        page.wait_for_url(re.compile(r"area="))
        expect(page.locator("#shelter-results .shelter-card")).to_have_count(2)
        sweep.check(page, "shelters", "district chosen (htmx)")
        page.goto(f"/shelters/?area={district.code}")
        sweep.check(page, "shelters", "district chosen")
        expect(page.locator("#shelter-map.leaflet-container")).to_be_visible()
        expect(page.locator("#shelter-map .leaflet-interactive").first).to_be_visible()
        page.goto("/shelters/?near=here&lat=37.495&lon=139.93")
        expect(page.locator("#shelter-map .leaflet-tooltip")).to_be_visible()
        sweep.check(page, "shelters", "nearest to where I am, with the map")
        page.goto("/shelters/?near=home")
        sweep.check(page, "shelters", "nearest to my home, asked to log in")
        page.goto("/shelters/?hazard=meteor")
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "shelters", "a bad search (error summary)")
        page.goto("/snow/")
        expect(page.locator("#plow-map.leaflet-container")).to_be_visible()
        sweep.check(page, "snow:status", "with its map")
        page.goto("/snow/?sort=time")
        sweep.check(page, "snow:status", "sorted by time")
        page.goto("/notices/")
        sweep.check(page, "notices:list")
        page.locator("#category-filter").select_option("disaster")
        page.wait_for_url(re.compile(r"category="))
        expect(page.locator("#notice-results li")).to_have_count(1)
        expect(page.locator("#notice-count")).to_contain_text("1")
        sweep.check(page, "notices:list", "category chosen (htmx)")
        page.goto(f"/notices/{notice.pk}/")
        sweep.check(page, "notices:detail")
        page.goto(f"/notices/{notice.pk}/?text=easy")
        sweep.check(page, "notices:detail", "easy Japanese")
        page.goto("/consent/privacy/")
        sweep.check(page, "consent:privacy")
        page.goto("/terms/")
        sweep.check(page, "about:terms")
        page.goto("/contact/")
        sweep.check(page, "about:contact")

        page.goto("/accounts/login/")
        sweep.check(page, "account_login")
        page.locator("input[name=login]").fill(resident.email)
        page.locator("input[name=password]").fill("not-the-password")
        submit(page)
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "account_login", "refused (error summary)")

        page.goto("/accounts/signup/")
        sweep.check(page, "account_signup")
        page.locator("input[name=email]").fill("hanako@example.jp")
        page.locator("input[name=password1]").fill("short")
        page.locator("input[name=password2]").fill("shorter")
        submit(page)
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "account_signup", "refused (error summary)")

        page.goto("/accounts/password/reset/")
        sweep.check(page, "account_reset_password")
        page.locator("input[name=email]").fill("nobody@example.jp")
        submit(page)
        page.wait_for_url("**/password/reset/done/")
        sweep.check(page, "account_reset_password_done")

        key = default_token_generator.make_token(resident)
        uidb36 = user_pk_to_url_str(resident)
        page.goto(reverse("account_reset_password_from_key", kwargs={"uidb36": uidb36, "key": key}))
        sweep.check(page, "account_reset_password_from_key")
        page.locator("input[name=password1]").fill("aizu-bandai-2026-new")
        page.locator("input[name=password2]").fill("aizu-bandai-2026-new")
        submit(page)
        page.wait_for_url("**/password/reset/key/done/")
        sweep.check(page, "account_reset_password_from_key_done")
        page.goto(reverse("account_reset_password_from_key", kwargs={"uidb36": uidb36, "key": key}))
        sweep.check(page, "account_reset_password_from_key", "a used link")

        page.goto("/accounts/inactive/")
        sweep.check(page, "account_inactive")

        page.goto("/")
        submit(page, "header form[action='/preferences/text-size/'] button")
        assert page.locator("html.text-large").count() == 1
        sweep.check(page, "home", "large text")
        page.goto("/accounts/login/")
        sweep.check(page, "account_login", "large text")
    assert_swept(sweep, "anonymous")


@pytest.mark.parametrize("language", LANGUAGES)
def test_signing_up_and_in_by_code(browser, live_server, smtp_mailbox, language) -> None:
    passwordless = UserFactory.create()
    passwordless.set_unusable_password()
    passwordless.save(update_fields=["password"])
    sweep = Sweep(f"someone signing up or in by an emailed code ({language})")
    with axe_context(browser, live_server.url, language=language) as page:
        page.goto("/accounts/signup/")
        page.locator("input[name=email]").fill("hanako@example.jp")
        page.locator("input[name=password1]").fill("tsuruga-jo-sakura-2026")
        page.locator("input[name=password2]").fill("tsuruga-jo-sakura-2026")
        submit(page)
        page.wait_for_url("**/accounts/confirm-email/")
        sweep.check(page, "account_email_verification_sent")
        page.locator("input[name=code]").fill("WRNG-CODE")
        submit(page)
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "account_email_verification_sent", "refused (error summary)")

        page.context.clear_cookies()
        page.goto("/accounts/login/code/")
        sweep.check(page, "account_request_login_code")
        page.locator("input[name=email]").fill(passwordless.email)
        submit(page)
        page.wait_for_url("**/accounts/login/code/confirm/")
        sweep.check(page, "account_confirm_login_code")
        page.locator("input[name=code]").fill(emailed_code(smtp_mailbox, passwordless.email))
        submit(page)
        page.wait_for_url(lambda url: "/accounts/login/" not in url)

        # Setting a password is one of allauth's sensitive account actions
        # (ACCOUNT_REAUTHENTICATION_REQUIRED): an account without one confirms a fresh code.
        page.goto("/accounts/password/set/")
        page.wait_for_url("**/accounts/reauthenticate/code/**")
        submit(page)
        page.wait_for_url("**/accounts/reauthenticate/code/confirm/**")
        page.locator("input[name=code]").fill(emailed_code(smtp_mailbox, passwordless.email))
        submit(page)
        page.wait_for_url("**/accounts/password/set/")
        sweep.check(page, "account_set_password")
    assert_swept(sweep, "entrance")


def reauthenticate(page: Any, sweep: Sweep) -> None:
    """Confirm the password, as deleting the account and two-factor settings ask (withdrawing
    does not: it needs what granting needs)."""
    page.goto("/accounts/reauthenticate/")
    sweep.check(page, "account_reauthenticate")
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    submit(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_resident_pages(browser, live_server, language) -> None:
    home = district_with_shelters()
    resident = resident_with_data(home)
    place_id = profile_services.place_add(
        resident_id=resident.pk, kind="work", area_code=DistrictFactory.create().code
    ).pk
    school = SchoolFactory.create()
    child_id = profile_services.child_add(
        resident_id=resident.pk, school_code=school.code, grade=3
    ).pk
    letter = school_letter(school)
    receipt = grant(resident, "personalised_home", "age").public_id
    grant(resident, "personalised_home", "interactions")
    for_them = NoticeFactory.create(title_ja="鶴城地区の道路工事", is_public=False)
    for_them.areas.add(home)
    NoticeFactory.create(title_ja="市の広報", published_at=timezone.now() - timedelta(days=2))
    warning = NoticeFactory.create(category="disaster", urgency="warning", title_ja="大雨警報")
    warning.areas.add(home)
    AreaPlowStatus.objects.create(area=home, last_plowed_at=timezone.now())
    feeds_rescore(id_range=(resident.pk, resident.pk))
    sweep = Sweep(f"a resident who shares data ({language})")
    with axe_context(browser, live_server.url, language=language) as page:
        log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
        sweep.check(page, "home", "signed in, with its message")
        page.goto("/")
        sweep.check(page, "home")
        page.locator(f"#feed-{for_them.pk} summary").click()
        sweep.check(page, "home", "a warning with shelters, why this? open, snow and school cards")
        page.locator(f"#feed-{for_them.pk} form[action$='/save/'] button").click()
        page.locator(f"#feed-{for_them.pk} [role=status]").wait_for()
        sweep.check(page, "home", "a notice saved (htmx)")
        page.goto("/for-you/")
        sweep.check(page, "for_you:list")
        page.goto(f"/for-you/{for_them.pk}/")
        sweep.check(page, "for_you:notice")
        page.goto("/")
        page.locator(f"#feed-{for_them.pk} form[action$='/dismiss/'] button").click()
        page.locator(f"#feed-{for_them.pk} form[action$='/undismiss/']").wait_for()
        sweep.check(page, "home", "a notice set aside (htmx)")
        reauthenticate(page, sweep)

        page.goto("/shelters/?near=home")
        expect(page.locator("#shelter-count")).to_contain_text("2")
        sweep.check(page, "shelters", "nearest to my home")

        page.goto("/me/")
        sweep.check(page, "me:data")
        page.goto("/me/profile/")
        sweep.check(page, "me:profile")
        page.locator(f"#places-remove-{place_id}").click()
        page.locator("#places .confirm").wait_for()
        sweep.check(page, "me:profile", "removing a place asked in the list (htmx)")
        page.goto("/me/profile/")
        page.locator("#places select[name=kind]").select_option("home")
        page.locator("#places select[name=area]").select_option(home.code)
        page.locator("form[action='/me/places/'] button[type=submit]").click()
        page.locator("#places [aria-invalid=true]").wait_for()
        sweep.check(page, "me:profile", "a place refused (htmx)")
        page.goto("/me/profile/")
        page.locator("input[name=latitude]").fill("12.5")
        submit(page, "form[action='/me/profile/location/'] button[type=submit]")
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "me:profile_section", "location refused (error summary)")
        page.goto(reverse("me:place_remove", kwargs={"place_id": place_id}))
        sweep.check(page, "me:place_remove")
        page.goto(reverse("me:child_remove", kwargs={"child_id": child_id}))
        sweep.check(page, "me:child_remove")
        page.goto("/me/delete/")
        sweep.check(page, "me:delete")
        page.locator("#confirm input[name=email]").fill("someone-else@example.jp")
        submit(page, "#confirm button[type=submit]")
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "me:delete", "refused (error summary)")

        page.goto("/letters/")
        sweep.check(page, "letters:list")
        page.goto(f"/letters/{letter.pk}/")
        sweep.check(page, "letters:letter")

        page.goto("/consent/")
        sweep.check(page, "consent:overview")
        page.goto("/consent/setup/")
        sweep.check(page, "consent:setup_step", "some purposes already agreed")
        page.goto("/consent/setup/done/")
        sweep.check(page, "consent:setup_done")
        page.goto("/consent/purposes/personalised_home/")
        sweep.check(page, "consent:purpose")
        page.goto("/consent/purposes/personalised_home/withdraw/")
        sweep.check(page, "consent:withdraw_purpose")
        page.goto("/consent/categories/interests/withdraw/")
        sweep.check(page, "consent:withdraw_category")
        page.goto(reverse("consent:receipt", kwargs={"public_id": receipt}))
        sweep.check(page, "consent:receipt")
        reference = PaperForm.objects.get(subject_pseudonym=resident.pseudonym).reference
        page.goto(reverse("consent:dispute", kwargs={"reference": reference}))
        sweep.check(page, "consent:dispute")
        submit(page)
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "consent:dispute", "refused (error summary)")

        page.goto("/me/profile/")
        submit(page, "header form[action='/preferences/text-size/'] button")
        assert page.locator("html.text-large").count() == 1
        sweep.check(page, "me:profile", "large text")

        page.goto("/accounts/logout/")
        sweep.check(page, "account_logout")
    assert_swept(sweep, "resident")


@pytest.mark.parametrize("language", LANGUAGES)
def test_notification_pages(browser, live_server, settings, time_machine, language) -> None:
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = generate_vapid_keys()
    resident = UserFactory.create()
    grant(resident, "disaster_warnings", "places")
    preferences_update(
        resident_id=resident.pk, preferences=Preferences(channels=["email"], warnings=True)
    )
    warning = NoticeFactory.create(category="disaster", urgency="warning", title_ja="大雪警報")
    for status in ("sent", "failed"):
        Delivery.objects.create(
            resident=UserFactory.create(), notice=warning, channel="email", kind="alert",
            status=status, next_try_at=timezone.now(), last_error="550 No such mailbox",
        )  # fmt: skip
    officer = with_totp(StaffFactory.create(roles=["disaster_officer"]))
    sweep = Sweep(f"notifications ({language})")
    with axe_context(browser, live_server.url, language=language) as page:
        log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
        page.goto("/notifications/")
        expect(page.locator("#push-subscribe")).to_be_visible()
        sweep.check(page, "notifications:preferences", "push offered (its script ran)")
        page.locator("select[name=second_channel]").select_option("email")
        submit(page, "form[action='/notifications/'] button[type=submit]")
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "notifications:preferences", "refused (error summary)")
        page.goto("/notifications/")
        page.locator("input[name=url]").fill("http://example.jp/hook")
        settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = False
        submit(page, "form[action='/notifications/webhook/'] button[type=submit]")
        sweep.check(page, "notifications:webhook", "a gateway address refused")
        page.goto(
            reverse(
                "notifications:unsubscribe",
                args=[unsubscribe_token(resident_id=resident.pk, channel="email")],
            )
        )
        sweep.check(page, "notifications:unsubscribe", "asking")
        submit(page)
        sweep.check(page, "notifications:unsubscribe", "done")
        page.goto("/notifications/unsubscribe/forged:token/")
        sweep.check(page, "notifications:unsubscribe", "a link this site did not sign")
        page.context.clear_cookies()
        log_in_as_staff(page, officer, time_machine)
        page.goto(f"/staff/notices/{warning.pk}/deliveries/")
        sweep.check(page, "notifications_staff:deliveries")
    assert_swept(sweep, "notifications")


# Account and two-factor settings are allauth's pages in the portal's layout; English is
# allauth's own language, so they are swept in Japanese.
def test_account_settings_pages(browser, live_server, smtp_mailbox, time_machine) -> None:
    resident = UserFactory.create()
    sweep = Sweep("a resident's account settings (ja)")
    with axe_context(browser, live_server.url, language="ja") as page:
        log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
        reauthenticate(page, sweep)
        page.goto("/accounts/email/")
        sweep.check(page, "account_email")
        page.locator("input#id_email").fill(resident.email)
        submit(page, "form[action='/accounts/email/'] button[name=action_add]")
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "account_email", "refused (error summary)")
        page.goto("/accounts/password/change/")
        sweep.check(page, "account_change_password")
        page.goto("/accounts/2fa/")
        sweep.check(page, "mfa_index", "no authenticator yet")
        page.goto("/accounts/2fa/totp/activate/")
        sweep.check(page, "mfa_activate_totp")
        page.locator("input[name=code]").fill("000000")
        submit(page)
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "mfa_activate_totp", "refused (error summary)")

        with_totp(resident)
        RecoveryCodes.activate(resident)
        page.goto("/accounts/2fa/")
        sweep.check(page, "mfa_index")
        # Recovery codes need a fresh second factor: they are asked for one first.
        page.goto("/accounts/2fa/recovery-codes/")
        page.wait_for_url("**/accounts/2fa/reauthenticate/**")
        sweep.check(page, "mfa_reauthenticate")
        page.locator("input[name=code]").fill(fresh_totp_code(time_machine, TOTP_SECRET))
        submit_main_form(page)
        page.wait_for_url("**/accounts/2fa/recovery-codes/")
        sweep.check(page, "mfa_view_recovery_codes")
        page.goto("/accounts/2fa/recovery-codes/generate/")
        sweep.check(page, "mfa_generate_recovery_codes")
        page.goto("/accounts/2fa/totp/deactivate/")
        sweep.check(page, "mfa_deactivate_totp")

        page.goto("/accounts/reauthenticate/code/")
        sweep.check(page, "account_request_reauthentication_code")
        submit(page)
        page.wait_for_url("**/accounts/reauthenticate/code/confirm/")
        sweep.check(page, "account_confirm_reauthentication_code")
    assert_swept(sweep, "account settings")


def test_new_resident_pages(browser, live_server) -> None:
    """Someone who has shared nothing yet: the pages say so, and offer to."""
    resident = UserFactory.create()
    sweep = Sweep("a resident who shares nothing (ja)")
    with axe_context(browser, live_server.url, language="ja") as page:
        log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
        sweep.check(page, "home", "nothing shared")
        page.goto("/me/")
        sweep.check(page, "me:data", "nothing shared")
        page.goto("/me/profile/")
        sweep.check(page, "me:profile", "nothing shared")
        page.goto("/consent/")
        sweep.check(page, "consent:overview", "nothing shared")
        page.goto("/consent/setup/")
        sweep.check(page, "consent:setup_step")
        # Terms published while the resident was reading: the step is refused.
        page.locator("input[name=terms]").first.evaluate("input => { input.value = '0'; }")
        page.locator("input[name=purposes]").first.check()
        submit(page, "button[name=action][value=save]")
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "consent:setup_step", "refused (error summary)")
        page.goto("/consent/setup/done/")
        sweep.check(page, "consent:setup_done", "nothing shared")
        reauthenticate(page, sweep)
        page.goto("/consent/categories/places/withdraw/")
        sweep.check(page, "consent:withdraw_category", "nothing to withdraw")
    sweep.assert_clean()


def log_in_as_staff(page: Any, staff: Any, time_machine: Any, sweep: Sweep | None = None) -> None:
    """Password, then a wrong code (swept when ``sweep`` is given), then the right one."""
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(staff.email)
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    submit(page)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    if sweep is not None:
        sweep.check(page, "mfa_authenticate")
        page.locator("input[name=code]").fill("000000")
        submit(page)
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "mfa_authenticate", "refused (error summary)")
    page.locator("input[name=code]").fill(fresh_totp_code(time_machine, TOTP_SECRET))
    submit(page)
    page.wait_for_url(lambda url: "/accounts/" not in url)


@pytest.mark.parametrize("language", LANGUAGES)
def test_staff_pages(browser, live_server, time_machine, language) -> None:
    # Counter clerks type forms in; consent officers supervise the register: two accounts.
    clerk = with_totp(StaffFactory.create(roles=["counter_clerk"]))
    officer = with_totp(StaffFactory.create(roles=["consent_officer"]))
    disputed = UserFactory.create()
    reference = recorded_at_the_counter(disputed)
    counter_dispute_open(resident=disputed, reference=reference, reason="署名していません。")
    sweep = Sweep(f"staff after two-factor authentication ({language})")
    with axe_context(browser, live_server.url, language=language) as page:
        log_in_as_staff(page, clerk, time_machine, sweep)
        page.goto("/staff/")
        sweep.check(page, "staff:console")
        page.goto("/staff/consent/counter/")
        sweep.check(page, "consent_staff:counter")
        submit(page)
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "consent_staff:counter", "refused (error summary)")

        page.context.clear_cookies()
        log_in_as_staff(page, officer, time_machine)
        page.goto("/staff/consent/register/")
        sweep.check(page, "consent_staff:register", "an open dispute")
        submit(page, "form:has(input[name=action][value=issue]) button")
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "consent_staff:register", "refused (error summary)")
        page.goto("/staff/consent/register/batches/1/")
        sweep.check(page, "consent_staff:register_batch")
    assert_swept(sweep, "staff")


@pytest.mark.parametrize("language", LANGUAGES)
def test_consent_report_pages(browser, live_server, time_machine, language) -> None:
    administrator = with_totp(StaffFactory.create(roles=["administrator"]))
    residents = UserFactory.create_batch(12)
    district = district_with_shelters()
    for resident in residents:
        grant(resident, "personalised_home", "places")
        grant(resident, "planning_statistics", "places", "age")
        profile_services.place_add(resident_id=resident.pk, kind="home", area_code=district.code)
    withdraw(residents[0], purpose="personalised_home")
    counter_dispute_open(
        resident=residents[1], reference=recorded_at_the_counter(residents[1]), reason="違います。"
    )
    sweep = Sweep(f"consent reports ({language})")
    with axe_context(browser, live_server.url, language=language) as page:
        log_in_as_staff(page, administrator, time_machine)
        page.goto("/staff/consent/reports/")
        sweep.check(page, "consent_staff:reports", "with the latest viewings")
        page.goto("/staff/consent/reports/trends/")
        sweep.check(page, "consent_staff:reports_trends", "a chart and its tables")
        page.goto("/staff/consent/reports/trends/?weeks=7")
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "consent_staff:reports_trends", "refused (error summary)")
        page.goto("/staff/consent/reports/terms/")
        sweep.check(page, "consent_staff:reports_terms")
        page.goto("/staff/consent/reports/data-use/")
        sweep.check(page, "consent_staff:reports_data_use", "nothing checked yet")
        data_use_check(day=timezone.localdate())
        page.goto("/staff/consent/reports/data-use/")
        sweep.check(page, "consent_staff:reports_data_use", "today checked")
        page.goto("/staff/consent/reports/counter/")
        sweep.check(page, "consent_staff:reports_counter", "a disputed form")
        page.goto("/staff/consent/reports/coverage/")
        sweep.check(page, "consent_staff:reports_coverage", "not computed yet")
        planning_statistics_compute()
        page.goto("/staff/consent/reports/coverage/")
        sweep.check(page, "consent_staff:reports_coverage", "a table of areas")
        page.goto("/staff/consent/reports/breakdown/?by=age")
        sweep.check(page, "consent_staff:reports_breakdown", "by age band")
        page.goto("/staff/consent/reports/breakdown/?by=area-nowhere")
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "consent_staff:reports_breakdown", "refused (error summary)")
    assert_swept(sweep, "reports staff")


@pytest.mark.parametrize("language", LANGUAGES)
def test_notice_console_pages(browser, live_server, time_machine, language) -> None:
    department = Department.objects.create(code="roads", name_ja="道路維持課", name_en="Roads")
    publisher = with_totp(StaffFactory.create(roles=["publisher"]))
    department.members.add(publisher)
    approver = with_totp(StaffFactory.create(roles=["approver"]))
    DistrictFactory.create()
    sweep = Sweep(f"the notices console ({language})")
    with axe_context(browser, live_server.url, language=language) as page:
        log_in_as_staff(page, publisher, time_machine)
        page.goto("/staff/notices/")
        sweep.check(page, "notices_staff:list", "empty")
        page.goto("/staff/notices/new/")
        sweep.check(page, "notices_staff:new")
        page.locator("textarea[name=body_ja]").fill("**除雪**のお知らせ")
        submit(page, "button[value=preview]")
        expect(page.locator("#notice-preview strong")).to_be_visible()
        sweep.check(page, "notices_staff:new", "with a preview")
        page.locator("textarea[name=body_ja]").fill("<script>alert(1)</script>")
        submit(page, "button[value=save]")
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "notices_staff:new", "refused (error summary)")
        page.locator("input[name=title_ja]").fill("除雪のお知らせ")
        page.locator("textarea[name=body_ja]").fill("今夜から除雪します。")
        page.locator("select[name=department]").select_option("roads")
        submit(page, "button[value=save]")
        page.wait_for_url(re.compile(r"/staff/notices/\d+/$"))
        sweep.check(page, "notices_staff:edit", "a draft")
        page.locator("input[name=title_ja]").fill("除雪のお知らせ（変更）")
        submit(page, "button[value=save]")
        submit(page, "form[action$='/submit/'] button")
        notice_url = page.url
        page.goto(notice_url + "history/")
        sweep.check(page, "notices_staff:history")
        page.context.clear_cookies()
        log_in_as_staff(page, approver, time_machine)
        page.goto("/staff/notices/review/")
        sweep.check(page, "notices_staff:review", "one notice")
        page.goto(notice_url)
        sweep.check(page, "notices_staff:edit", "in review, for an approver")
        page.goto("/staff/notices/second-look/")
        sweep.check(page, "notices_staff:second_look", "empty")
    assert_swept(sweep, "notices staff")


@pytest.mark.parametrize("language", LANGUAGES)
def test_feed_pages(browser, live_server, time_machine, language) -> None:
    officer = with_totp(StaffFactory.create(roles=["disaster_officer"]))
    source = Source.objects.create(
        name="気象庁 防災情報XML", kind="jma", url="https://example.jp/extra.xml",
        consecutive_failures=4, last_error="the server answered HTTP 503",
    )  # fmt: skip
    run = Run.objects.create(
        source=source, kind="jma", origin="beat", location=source.url, status="partial",
        fetched=3, created=1, skipped=1, rejected=1,
        problems=[
            {"reference": "a.xml", "reason": "not well-formed XML", "skipped": False},
            {"reference": "b.xml", "reason": "concerns none of the configured areas",
             "skipped": True},
        ],
        notes=["created #1 会津若松市に大雪警報"],
    )  # fmt: skip
    sweep = Sweep(f"the feeds ({language})")
    with axe_context(browser, live_server.url, language=language) as page:
        log_in_as_staff(page, officer, time_machine)
        page.goto("/staff/feeds/")
        sweep.check(page, "feeds_staff:overview", "a failing source and a run")
        page.goto(f"/staff/feeds/runs/{run.pk}/")
        sweep.check(page, "feeds_staff:run", "refused and skipped documents")
        page.goto(f"/staff/feeds/sources/{source.pk}/")
        sweep.check(page, "feeds_staff:source")
        submit(page, "form[action$='/poll/'] button")
        expect(page.locator(".messages")).to_be_visible()
        sweep.check(page, "feeds_staff:source", "after poll now (its message)")
    assert_swept(sweep, "feeds staff")


@pytest.mark.parametrize("language", LANGUAGES)
def test_snow_staff_pages(browser, live_server, time_machine, language) -> None:
    officer = with_totp(StaffFactory.create(roles=["disaster_officer"]))
    sweep = Sweep(f"the plow vehicles ({language})")
    with axe_context(browser, live_server.url, language=language) as page:
        log_in_as_staff(page, officer, time_machine)
        page.goto("/staff/snow/vehicles/")
        sweep.check(page, "snow_staff:vehicles", "empty")
        submit(page, "main form[novalidate] button.button")
        expect(page.locator("#error-summary")).to_be_visible()
        sweep.check(page, "snow_staff:vehicles", "refused (error summary)")
        page.locator("input[name=name]").fill("除雪1号")
        submit(page, "main form[novalidate] button.button")
        expect(page.locator("#new-token")).to_be_visible()
        # The vehicle's page with its new token, answered at the address that registered it.
        sweep.check(page, "snow_staff:vehicles", "registered: the vehicle and its new token")
        page.goto("/staff/snow/vehicles/")
        sweep.check(page, "snow_staff:vehicles", "one vehicle")
        page.get_by_role("link", name="除雪1号").click()
        sweep.check(page, "snow_staff:vehicle")
    assert_swept(sweep, "snow staff")


def check_narrow(page: Any, sweep: Sweep, url_name: str, state: str = "") -> None:
    sweep.check(page, url_name, state)
    overflowing = page.evaluate(SIDEWAYS)
    assert overflowing == [], f"{page.url} scrolls sideways at 320 px: {overflowing[:5]}"


def test_main_pages_on_a_narrow_screen(browser, live_server) -> None:
    """At 320 CSS pixels wide nothing but a wide table scrolls sideways (WCAG 1.4.10, reflow),
    and axe's rules still pass there (target sizes, contrast), in large text too."""
    resident = resident_with_data(district_with_shelters())
    sweep = Sweep("a narrow screen (ja)")
    with axe_context(browser, live_server.url, language="ja", viewport=NARROW) as page:
        for path, url_name in [
            ("/", "home"),
            ("/shelters/", "shelters"),
            ("/shelters/?near=here&lat=37.495&lon=139.93", "shelters"),
            ("/snow/", "snow:status"),
        ]:
            page.goto(path)
            check_narrow(page, sweep, url_name)
        log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
        for path, url_name in [
            ("/me/", "me:data"),
            ("/me/profile/", "me:profile"),
            ("/consent/", "consent:overview"),
            ("/consent/purposes/disaster_warnings/", "consent:purpose"),
        ]:
            page.goto(path)
            check_narrow(page, sweep, url_name)
        submit(page, "header form[action='/preferences/text-size/'] button")
        check_narrow(page, sweep, "consent:purpose", "large text")
        page.goto("/me/profile/")
        check_narrow(page, sweep, "me:profile", "large text")
    sweep.assert_clean()


@pytest.mark.urls("tests.browser.error_urls")
@pytest.mark.parametrize("language", LANGUAGES)
def test_error_pages(browser, live_server, language) -> None:
    sweep = Sweep(f"the error pages ({language})")
    with axe_context(browser, live_server.url, language=language) as page:
        for status in (400, 403, 404, 500):
            response = page.goto(f"/errors/{status}/")
            assert response is not None and response.status == status
            sweep.check(page, f"errors/{status}/")
        response = page.goto("/no-such-page/")
        assert response is not None and response.status == 404
        sweep.check(page, NO_PAGE, "an address that is no page")
    sweep.assert_clean()
