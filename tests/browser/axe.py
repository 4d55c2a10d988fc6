"""axe-core in the browser tests: run its WCAG 2.2 AA rules on a page, collect what it finds
on every page a sweep visits, and say it in a list a person can read.

axe is vendored for the tests only (tests/browser/vendor/, see its README): the site never
serves it. The site's CSP refuses injected scripts, so a context that runs axe is opened with
``bypass_csp=True`` (axe_context below); no other context bypasses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve

AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe.min.js"

# WCAG 2.0, 2.1 and 2.2 at levels A and AA: what the project promises (DESIGN.md).
WCAG_22_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

LOCALES = {"ja": "ja-JP", "en": "en-US"}
# What url_name_of says of an address that resolves to no page (the 404 page is shown).
NO_PAGE = "(no page)"

# Genuine false positives of one rule on one element: (rule id, target selector) -> why.
# Add to this only with the reason; never switch a rule off for a whole page.
FALSE_POSITIVES: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]

    def describe(self) -> str:
        lines = [f"  {self.rule} ({self.impact}): {self.help}"]
        lines += [f"      {target}" for target in self.targets]
        lines.append(f"      {self.help_url}")
        return "\n".join(lines)


def axe_violations(page: Any) -> list[Violation]:
    """What axe's WCAG 2.2 AA rules find on the page as it is now (after its scripts ran)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate(
        "options => axe.run(document, options)",
        {"runOnly": {"type": "tag", "values": WCAG_22_AA_TAGS}, "resultTypes": ["violations"]},
    )
    violations = []
    for found in results["violations"]:
        selectors = (" ".join(str(part) for part in node["target"]) for node in found["nodes"])
        targets = tuple(
            target for target in selectors if (found["id"], target) not in FALSE_POSITIVES
        )
        if targets:
            violations.append(
                Violation(
                    rule=found["id"],
                    impact=found["impact"] or "",
                    help=found["help"],
                    help_url=found["helpUrl"],
                    targets=targets,
                )
            )
    return violations


def url_name_of(url: str) -> str:
    """The resolver's name for a URL ("namespace:name", or the route of an unnamed one)."""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return NO_PAGE
    return match.view_name if match.url_name else match.route


@dataclass
class Sweep:
    """The pages one visitor's sweep checked, and what axe found on them."""

    visitor: str
    checked: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    def check(self, page: Any, url_name: str, state: str = "") -> None:
        """Run axe on the page the browser shows, which must be the page named url_name
        (a redirect elsewhere is a mistake in the sweep, not a page checked)."""
        page.wait_for_load_state()
        landed = url_name_of(page.url)
        assert landed == url_name, f"{self.visitor}: expected {url_name}, landed on {page.url}"
        self.checked.append(url_name)
        violations = axe_violations(page)
        if violations:
            where = urlsplit(page.url)
            title = f"{where.path}{'?' + where.query if where.query else ''} ({url_name})"
            if state:
                title += f", {state}"
            self.findings.append("\n".join([title, *(v.describe() for v in violations)]))

    def assert_clean(self) -> None:
        assert not self.findings, (
            f"axe (WCAG 2.2 AA) found violations for {self.visitor}:\n\n"
            + "\n\n".join(self.findings)
        )


@contextmanager
def axe_context(browser: Any, base_url: str, *, language: str, **options: Any) -> Iterator[Any]:
    """A page in a browser context of its own that may run axe (CSP bypassed here only); a
    static file the server does not serve fails, since pages without their stylesheet would
    be judged without their colours."""
    context = browser.new_context(
        base_url=base_url, locale=LOCALES[language], bypass_csp=True, **options
    )
    context.set_default_timeout(15_000)
    # Into every page before its own scripts: cheaper than a script tag added to each page.
    context.add_init_script(path=str(AXE_SCRIPT))
    page = context.new_page()
    missing_static: list[str] = []
    page.on(
        "response",
        lambda response: (
            missing_static.append(response.url)
            if "/static/" in response.url and response.status >= 400
            else None
        ),
    )
    try:
        yield page
    finally:
        context.close()
    assert missing_static == [], "pages name static files that the server does not serve"
