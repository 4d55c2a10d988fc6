"""Key pages are usable with the keyboard alone: the skip link comes first and works, Tab
reaches every control once, in reading order, each with a visible focus indicator, and leaves
the page at the end (Shift+Tab comes back the same way): nothing traps focus."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from portal.residents import services as profile_services
from tests.browser.steps import log_in
from tests.factories import (
    DEFAULT_PASSWORD,
    DistrictFactory,
    SchoolFactory,
    ShelterFactory,
    UserFactory,
)
from tests.helpers import grant

pytestmark = pytest.mark.django_db(transaction=True)

# Numbers, in document order, every element that Tab should reach (data-tab-stop). A group of
# radio buttons is one stop: Tab enters it at its checked button (or the first, or the last
# going backwards) and the arrow keys move inside it.
MARK_TAB_STOPS = """() => {
  const focusable = 'a[href], button, input, select, textarea, summary, [tabindex]';
  const shown = (element) => element.getClientRects().length > 0
    && getComputedStyle(element).visibility !== 'hidden'
    && !element.closest('[inert], details:not([open]) > :not(summary)');
  const groups = new Map();
  let count = 0;
  for (const element of document.querySelectorAll(focusable)) {
    if (element.disabled || element.tabIndex < 0 || element.type === 'hidden' || !shown(element)) {
      continue;
    }
    if (element.type === 'radio' && element.name) {
      const key = (element.form ? element.form.id || element.form.action : '') + '|' + element.name;
      if (!groups.has(key)) {
        groups.set(key, count);
        count += 1;
      }
      element.dataset.tabStop = groups.get(key);
      continue;
    }
    element.dataset.tabStop = count;
    count += 1;
  }
  return count;
}"""

DESCRIBE_FOCUS = """() => {
  const element = document.activeElement;
  if (!element || element === document.body || element === document.documentElement) {
    return null;
  }
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  return {
    stop: element.dataset.tabStop === undefined ? null : Number(element.dataset.tabStop),
    name: element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
      + ' "' + (element.innerText || element.value || '').trim().slice(0, 30) + '"',
    focusVisible: element.matches(':focus-visible'),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    shadow: style.boxShadow !== 'none',
    top: box.top + scrollY,
    left: box.left + scrollX,
    height: box.height,
    inView: box.bottom > 0 && box.top < innerHeight && box.right > 0 && box.left < innerWidth,
  };
}"""


@dataclass(frozen=True)
class Stop:
    stop: int | None
    name: str
    focus_visible: bool
    outline: bool
    shadow: bool
    top: float
    left: float
    height: float
    in_view: bool


def focused(page: Any) -> Stop | None:
    described = page.evaluate(DESCRIBE_FOCUS)
    if described is None:
        return None
    return Stop(
        stop=described["stop"],
        name=described["name"],
        focus_visible=described["focusVisible"],
        outline=described["outline"],
        shadow=described["shadow"],
        top=described["top"],
        left=described["left"],
        height=described["height"],
        in_view=described["inView"],
    )


def walk(page: Any, key: str, limit: int) -> list[Stop]:
    """Press key until focus leaves the page's elements or comes back round to where the walk
    began; a walk that does neither is caught in a trap."""
    stops: list[Stop] = []
    for _ in range(limit):
        page.keyboard.press(key)
        stop = focused(page)
        if stop is None or (stops and stop.stop == stops[0].stop):
            return stops
        stops.append(stop)
    raise AssertionError(f"{key} never left the page: {[stop.name for stop in stops]}")


def assert_keyboard_usable(page: Any) -> None:
    """The page as loaded, walked with Tab and Shift+Tab from the top."""
    count = page.evaluate(MARK_TAB_STOPS)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    forwards = walk(page, "Tab", limit=count + 5)
    names = [stop.name for stop in forwards]

    assert [stop.stop for stop in forwards] == list(range(count)), (
        f"Tab went through {names}, not every control once in document order"
    )
    for stop in forwards:
        assert stop.focus_visible and (stop.outline or stop.shadow), (
            f"{stop.name} shows no focus indicator"
        )
        assert stop.in_view, f"{stop.name} has focus but is not in view"
    for before, after in zip(forwards, forwards[1:], strict=False):
        same_line = abs(after.top - before.top) < max(before.height, after.height) / 2
        assert (after.left > before.left) if same_line else (after.top > before.top), (
            f"Tab went from {before.name} back up or left to {after.name}"
        )

    backwards = walk(page, "Shift+Tab", limit=count + 5)
    assert [stop.stop for stop in backwards] == list(reversed(range(count))), (
        f"Shift+Tab went through {[stop.name for stop in backwards]}"
    )


def assert_skip_link_first_and_working(page: Any) -> None:
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0 and box["height"] >= 24, "skip link not shown"
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)"), (
        "after the skip link, Tab does not go on inside the main content"
    )


@pytest.fixture
def resident() -> Any:
    """A resident who shares what the profile page asks for, with a place and a child."""
    user = UserFactory.create()
    grant(user, "personalised_home", "age", "places", "household", "interests", "language")
    grant(user, "disaster_warnings", "location")
    district = DistrictFactory.create(name_ja="鶴城地区")
    profile_services.place_add(resident_id=user.pk, kind="home", area_code=district.code)
    profile_services.child_add(
        resident_id=user.pk, school_code=SchoolFactory.create().code, grade=2
    )
    return user


def test_home_page_with_the_keyboard(page) -> None:
    page.goto("/")
    assert_skip_link_first_and_working(page)
    page.goto("/")
    assert_keyboard_usable(page)


def test_signed_in_home_page_with_the_keyboard(page, resident) -> None:
    """The "for you" list: each notice's link, "why this?", save and not interested."""
    from recommendations.services import feeds_rescore
    from tests.factories import NoticeFactory

    grant(resident, "personalised_home", "interactions")
    notices = [NoticeFactory.create(title_ja=f"お知らせ{n}") for n in range(3)]
    feeds_rescore(id_range=(resident.pk, resident.pk))
    log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
    page.goto("/")
    assert_keyboard_usable(page)

    why = page.locator(f"#feed-{notices[0].pk} summary")
    why.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#feed-{notices[0].pk} details")).to_have_attribute("open", "")
    page.locator(f"#feed-{notices[0].pk} form[action$='/dismiss/'] button").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#feed-{notices[0].pk} [role=status]")).to_be_visible()


def test_logging_in_with_the_keyboard_alone(page, resident) -> None:
    page.goto("/accounts/login/")
    assert_skip_link_first_and_working(page)
    page.goto("/accounts/login/")
    assert_keyboard_usable(page)

    page.locator("input[name=login]").focus()
    page.keyboard.type(resident.email)
    page.keyboard.press("Tab")
    page.keyboard.type(DEFAULT_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    expect(page.locator("header form[action='/accounts/logout/']")).to_be_visible()


def test_profile_page_with_the_keyboard(page, resident) -> None:
    log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
    page.goto("/me/profile/")
    assert_skip_link_first_and_working(page)
    page.goto("/me/profile/")
    assert_keyboard_usable(page)


def test_choosing_a_district_with_the_arrow_keys_keeps_focus_and_says_the_count(page) -> None:
    """The list updates as the district changes (htmx), but focus stays on the select, so the
    arrow keys go on through the districts (WCAG 3.2.2), and the status region says how many
    sites there are (WCAG 4.1.3)."""
    for name in ("鶴城地区", "北会津地区"):
        ShelterFactory.create(area=DistrictFactory.create(name_ja=name))
    page.goto("/shelters/")
    status = page.locator("#shelter-count")
    assert status.get_attribute("role") == "status"
    expect(status).to_contain_text("2")
    # A live region is read out when its content changes, not when it is replaced whole.
    status.evaluate("element => { element.dataset.original = 'yes'; }")
    districts = page.locator("#area-filter")
    districts.focus()

    page.keyboard.press("ArrowDown")
    page.wait_for_url(re.compile(r"area=.+"))
    expect(page.locator("#shelter-results .shelter-card")).to_have_count(1)
    expect(status).to_contain_text("1")
    expect(districts).to_be_focused()
    first = page.url

    page.keyboard.press("ArrowDown")
    page.wait_for_url(lambda url: url != first)
    expect(districts).to_be_focused()
    assert status.get_attribute("data-original") == "yes"


def test_notification_settings_with_the_keyboard_alone(page, resident) -> None:
    """Warnings turned on and a channel chosen, with Tab, Space, the arrow keys and Enter."""
    from portal.notifications.models import NotificationPreference

    log_in(page, email=resident.email, password=DEFAULT_PASSWORD)
    page.goto("/notifications/")
    assert_keyboard_usable(page)

    page.locator("input[name=warnings]").focus()
    page.keyboard.press("Space")
    page.locator("select[name=first_channel]").focus()
    page.keyboard.press("ArrowDown")  # (none) → email
    page.locator("form[action='/notifications/'] button[type=submit]").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".message--success")).to_be_visible()
    saved = NotificationPreference.objects.get(resident=resident)
    assert (saved.warnings, saved.channels) == (True, ["email"])
