"""Form errors, help text and error summaries are rendered by templates/includes/form/ only:
every other template includes them, so they exist once (DESIGN.md, layout)."""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SHARED = TEMPLATES / "includes" / "form"
MARKUP_OF_THE_SHARED_SET = ('class="error-summary', 'class="field__error', 'class="field__help')


def test_no_template_outside_the_shared_set_renders_errors_or_help_itself() -> None:
    copies = [
        f"{template.relative_to(TEMPLATES)}: {markup}"
        for template in sorted(TEMPLATES.rglob("*.html"))
        if SHARED not in template.parents
        for markup in MARKUP_OF_THE_SHARED_SET
        if markup in template.read_text(encoding="utf-8")
    ]
    assert copies == []
