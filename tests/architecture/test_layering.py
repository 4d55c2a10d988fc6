"""The layers of DESIGN.md hold: ``portal.models`` ← ``consent`` ← everything else, and other
apps reach ``recommendations`` only through its ``selectors`` and ``services``.

Found by reading every module's imports, like the consent gate's sweep.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
APPS = ("portal", "consent", "recommendations")
RECOMMENDATIONS_ENTRY_POINTS = {"recommendations.selectors", "recommendations.services"}


def python_modules(*apps: str) -> list[Path]:
    modules: list[Path] = []
    for app in apps:
        modules += [p for p in (PROJECT / app).rglob("*.py") if "migrations" not in p.parts]
    return sorted(modules)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports count too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # ``from portal import views`` imports the module portal.views.
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _outermost(modules: set[str]) -> set[str]:
    """``a.b`` stands for ``a.b.c`` too: ``from a.b import c`` may name a function, not a
    module."""
    return {m for m in modules if not any(m != o and _within(m, o) for o in modules)}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# What of ``portal`` sits below ``consent``: the models (the user model and the attributes the
# gate reads) and the task outbox, plumbing that knows no feature.
PORTAL_FOUNDATION = ("portal.models", "portal.infra.task_outbox")


def consent_violations(path: Path) -> set[str]:
    """``consent`` may import of ``portal`` only its foundation."""
    return _outermost(
        {
            module
            for module in imported_modules(path)
            if _within(module, "portal")
            and module != "portal"
            and not any(_within(module, allowed) for allowed in PORTAL_FOUNDATION)
        }
    )


def recommendations_violations(path: Path) -> set[str]:
    leaks = set()
    for module in imported_modules(path):
        if not _within(module, "recommendations") or module == "recommendations":
            continue
        if not any(_within(module, entry) for entry in RECOMMENDATIONS_ENTRY_POINTS):
            leaks.add(module)
    return _outermost(leaks)


@pytest.mark.parametrize(
    "path", python_modules("consent"), ids=lambda p: str(p.relative_to(PROJECT))
)
def test_consent_imports_nothing_of_portal_but_its_models(path: Path) -> None:
    leaks = consent_violations(path)
    assert not leaks, f"{module_name(path)} imports {sorted(leaks)}: consent sits below portal"


@pytest.mark.parametrize(
    "path",
    [p for p in python_modules(*APPS) if not module_name(p).startswith("recommendations")]
    # tests/recommendations/ tests the app's own internals; every other test is an outsider.
    + sorted(
        p
        for p in (PROJECT / "tests").rglob("*.py")
        if p.relative_to(PROJECT / "tests").parts[0] != "recommendations"
    ),
    ids=lambda p: str(p.relative_to(PROJECT)),
)
def test_other_apps_reach_recommendations_only_through_selectors_and_services(path: Path) -> None:
    leaks = recommendations_violations(path)
    assert not leaks, (
        f"{path.relative_to(PROJECT)} imports {sorted(leaks)}: "
        "use recommendations.selectors or recommendations.services"
    )


@pytest.mark.parametrize(
    "path",
    [PROJECT / "portal" / "models.py", PROJECT / "portal" / "infra" / "task_outbox.py"],
    ids=lambda p: str(p.relative_to(PROJECT)),
)
def test_the_portal_foundation_imports_nothing_of_consent_or_recommendations(path: Path) -> None:
    imports = imported_modules(path)
    assert not {m for m in imports if _within(m, "consent") or _within(m, "recommendations")}


def test_the_sweep_finds_consent_importing_a_portal_feature(tmp_path: Path) -> None:
    offender = tmp_path / "offender.py"
    offender.write_text(
        "from portal.models import User\n"
        "def f():\n"
        "    from portal.staff import roles\n"
        "    import portal.places.selectors\n"
    )
    assert consent_violations(offender) == {"portal.staff", "portal.places.selectors"}


def test_the_sweep_finds_a_reach_into_recommendations_internals(tmp_path: Path) -> None:
    offender = tmp_path / "offender.py"
    offender.write_text(
        "from recommendations.selectors import feed_for\n"
        "from recommendations import models\n"
        "from recommendations.scoring import score\n"
    )
    assert recommendations_violations(offender) == {
        "recommendations.models",
        "recommendations.scoring",
    }
