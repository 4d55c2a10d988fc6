"""No module but the gate reads resident attributes, and no module but the profile services
writes them: both are found by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
ATTRIBUTE_MODELS = {"ResidentProfile", "ResidentPlace", "ResidentChild", "ResidentInteraction"}
ALLOWED = {
    "consent/policy.py",  # the gate: every read
    "portal/residents/services.py",  # writes, each checked against consent
    "portal/models.py",  # where they are defined
}
APPS = ("portal", "consent", "recommendations")


def python_modules() -> list[Path]:
    modules = []
    for app in APPS:
        modules += [p for p in (PROJECT / app).rglob("*.py") if "migrations" not in p.parts]
    return modules


def names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            used |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # apps.get_model("portal", "ResidentPlace") and string references
            used |= {name for name in ATTRIBUTE_MODELS if name.lower() in node.value.lower()}
    return used


@pytest.mark.parametrize("path", python_modules(), ids=lambda p: str(p.relative_to(PROJECT)))
def test_only_the_consent_gate_and_profile_services_touch_resident_attribute_models(path) -> None:
    relative = str(path.relative_to(PROJECT))
    if relative in ALLOWED:
        return
    leaked = names_used(path) & ATTRIBUTE_MODELS
    assert not leaked, f"{relative} uses {sorted(leaked)}: read through consent.policy instead"


def test_the_admin_does_not_register_resident_attributes() -> None:
    from django.contrib import admin

    from portal.models import ResidentChild, ResidentInteraction, ResidentPlace, ResidentProfile

    for model in (ResidentProfile, ResidentPlace, ResidentChild, ResidentInteraction):
        assert not admin.site.is_registered(model)


def test_the_sweep_finds_a_module_that_imports_an_attribute_model(tmp_path) -> None:
    offender = tmp_path / "offender.py"
    offender.write_text("from portal.models import ResidentPlace\nResidentPlace.objects.all()\n")
    assert names_used(offender) & ATTRIBUTE_MODELS == {"ResidentPlace"}


def test_the_sweep_finds_a_lookup_by_model_name(tmp_path) -> None:
    offender = tmp_path / "offender.py"
    offender.write_text(
        "from django.apps import apps\napps.get_model('portal', 'residentprofile')\n"
    )
    assert names_used(offender) & ATTRIBUTE_MODELS == {"ResidentProfile"}
