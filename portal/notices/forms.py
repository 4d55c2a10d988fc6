"""Forms of the notices console: the editor maps to ``NoticeDraft``; the services decide what
may be stored and their ``ValidationError`` comes back onto these fields (``add_service_errors``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from portal.models import Area, InterestTag, School, User
from portal.notices.models import AGE_BANDS, Category, Department, Notice, Urgency
from portal.notices.services import NoticeDraft, Targeting

# Rows of "parents at school S (in grade G)" the editor offers.
AUDIENCE_ROWS = 3
# A letter to more classes than this is better split.
MAX_AUDIENCE_ROWS = 30
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
# Where a service's error about the school audiences is shown.
SERVICE_FIELD_ALIASES = {"schools": "audience_school_0"}


class AreaTreeWidget(forms.CheckboxSelectMultiple):
    """Areas as a tree of checkboxes: a fieldset per municipality, its districts, and each
    district's neighbourhoods in a list under it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tree: list[tuple[Area, list[tuple[Area, list[Area]]]]] = []

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        chosen = {str(v) for v in value or []}
        base_id = (attrs or {}).get("id") or f"id_{name}"
        # Numbered as Django numbers the options, so that the error summary's link to the
        # first option (includes/form/error_summary.html) finds its box.
        index = {str(code): number for number, (code, _label) in enumerate(self.choices)}

        def box(area: Area) -> SafeString:
            box_id = f"{base_id}_{index.get(area.code, area.code)}"
            return format_html(
                '<div class="field field--choice field--option">'
                '<input type="checkbox" name="{}" value="{}" id="{}"{}>'
                '<label for="{}">{}</label></div>',
                name,
                area.code,
                box_id,
                SafeString(" checked") if area.code in chosen else "",
                box_id,
                area.name,
            )

        def district(entry: tuple[Area, list[Area]]) -> SafeString:
            area, neighbourhoods = entry
            inner = format_html_join("", "<li>{}</li>", ((box(n),) for n in neighbourhoods))
            if neighbourhoods:
                return format_html("<li>{}<ul class='area-tree'>{}</ul></li>", box(area), inner)
            return format_html("<li>{}</li>", box(area))

        return format_html_join(
            "",
            '<fieldset class="area-tree__municipality"><legend>{}</legend>'
            '<ul class="area-tree"><li>{}</li>{}</ul></fieldset>',
            (
                (municipality.name, box(municipality), SafeString("".join(map(district, rest))))
                for municipality, rest in self.tree
            ),
        )


class NoticeForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    urgency = forms.ChoiceField(
        label=_("Urgency"), choices=Urgency.choices, initial=Urgency.INFORMATION
    )
    title_ja = forms.CharField(label=_("Title (Japanese)"), max_length=200)
    body_ja = forms.CharField(
        label=_("Text (Japanese, Markdown)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    body_en = forms.CharField(
        label=_("Text (English, Markdown)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    title_easy = forms.CharField(label=_("Title (easy Japanese)"), max_length=200, required=False)
    body_easy = forms.CharField(
        label=_("Text (easy Japanese, Markdown)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    publish_at = forms.DateTimeField(
        label=_("Publish at (Japan time)"),
        required=False,
        input_formats=[DATETIME_LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_("Empty: as soon as it is approved."),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires at (Japan time)"),
        required=False,
        input_formats=[DATETIME_LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_("Empty: never."),
    )
    department = forms.ChoiceField(label=_("Department"), required=False)
    school = forms.ChoiceField(
        label=_("School"), required=False, help_text=_("For school letters only.")
    )
    is_public = forms.BooleanField(
        label=_("Public: anyone with the link may read it"), required=False, initial=True
    )
    requires_acknowledgement = forms.BooleanField(
        label=_("Ask families to acknowledge it (school letters)"), required=False
    )
    supersedes = forms.IntegerField(
        label=_("Replaces the published notice number"), required=False, min_value=1
    )
    is_cancellation = forms.BooleanField(
        label=_("It cancels that notice (the warning or event no longer holds)"), required=False
    )
    areas = forms.MultipleChoiceField(
        label=_("Areas"),
        required=False,
        widget=AreaTreeWidget,
        help_text=_("None ticked: every area."),
    )
    age_bands = forms.MultipleChoiceField(
        label=_("Age bands"),
        required=False,
        choices=[(band, band) for band in AGE_BANDS],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every age."),
    )
    interests = forms.MultipleChoiceField(
        label=_("Interests"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every resident, whatever their interests."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The user's own, and the notice's current one: a disaster officer may edit a
        # disaster notice of a department that is not theirs without having to move it.
        departments = Department.objects.filter(
            Q(pk__in=user.notice_departments.values("pk"))
            | Q(code=self.initial.get("department") or None)
        ).order_by("code")
        _choice_field(self, "department").choices = [("", "—")] + [
            (d.code, d.name) for d in departments
        ]
        own_schools = School.objects.filter(
            pk__in=user.school_memberships.values("school_id")
        ).order_by("code")
        _choice_field(self, "school").choices = [("", "—")] + [
            (s.code, s.name) for s in own_schools
        ]
        _choice_field(self, "interests").choices = [
            (i.code, i.name) for i in InterestTag.objects.all()
        ]
        areas = list(Area.objects.order_by("code"))
        _choice_field(self, "areas").choices = [(a.code, a.name) for a in areas]
        widget = self.fields["areas"].widget
        assert isinstance(widget, AreaTreeWidget)
        widget.tree = _area_tree(areas)
        schools = [("", "—")] + [(s.code, s.name) for s in School.objects.order_by("code")]
        self.audience_row_count = _audience_rows_needed(self.data, self.initial)
        for row in range(self.audience_row_count):
            self.fields[f"audience_school_{row}"] = forms.ChoiceField(
                label=_("Parents at school (%(row)s)") % {"row": row + 1},
                required=False,
                choices=schools,
            )
            self.fields[f"audience_grade_{row}"] = forms.IntegerField(
                label=_("Grade (%(row)s)") % {"row": row + 1},
                required=False,
                min_value=1,
                max_value=12,
                help_text=_("Empty: every grade."),
            )

    @classmethod
    def initial_of(cls, notice: Notice) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(notice, name)
            for name in (
                "category", "urgency", "title_ja", "title_en", "title_easy", "body_ja",
                "body_en", "body_easy", "publish_at", "expires_at", "is_public",
                "requires_acknowledgement",
            )
        }  # fmt: skip
        initial["department"] = notice.department.code if notice.department else ""
        initial["school"] = notice.school.code if notice.school else ""
        initial["supersedes"] = notice.supersedes_id
        initial["areas"] = list(notice.areas.values_list("code", flat=True))
        initial["age_bands"] = list(notice.age_bands)
        initial["interests"] = list(notice.interests.values_list("code", flat=True))
        audiences = notice.school_audiences.select_related("school").order_by("id")
        initial["is_cancellation"] = notice.is_cancellation
        for row, audience in enumerate(audiences):
            initial[f"audience_school_{row}"] = audience.school.code
            initial[f"audience_grade_{row}"] = audience.grade
        return initial

    def audience_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"audience_school_{row}"], self[f"audience_grade_{row}"])
            for row in range(self.audience_row_count)
        ]

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("audience_")]

    def to_draft(self) -> NoticeDraft:
        data = self.cleaned_data
        audiences = [
            (data[f"audience_school_{row}"], data[f"audience_grade_{row}"])
            for row in range(self.audience_row_count)
            if data.get(f"audience_school_{row}")
        ]
        return NoticeDraft(
            category=data["category"],
            urgency=data["urgency"],
            title_ja=data["title_ja"],
            body_ja=data["body_ja"],
            title_en=data["title_en"],
            body_en=data["body_en"],
            title_easy=data["title_easy"],
            body_easy=data["body_easy"],
            publish_at=data["publish_at"],
            expires_at=data["expires_at"],
            department_code=data["department"],
            school_code=data["school"],
            is_public=data["is_public"],
            requires_acknowledgement=data["requires_acknowledgement"],
            supersedes_id=data["supersedes"],
            is_cancellation=data["is_cancellation"],
            targeting=Targeting(
                area_codes=data["areas"],
                age_bands=data["age_bands"],
                interest_codes=data["interests"],
                school_audiences=audiences,
            ),
        )

    def add_service_errors(self, error: ValidationError) -> None:
        """A service refused the draft: its reasons go onto the fields they are about."""
        by_field: Mapping[str, Iterable[str]] = (
            error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        )
        for name, problems in by_field.items():
            field_name = SERVICE_FIELD_ALIASES.get(name, name)
            for problem in problems:
                self.add_error(field_name if field_name in self.fields else None, problem)


def _audience_rows_needed(*sources: Mapping[str, Any]) -> int:
    """Enough school rows for every audience a notice has or a form posts, and one empty row
    more to add another (at least AUDIENCE_ROWS, at most MAX_AUDIENCE_ROWS)."""
    rows = AUDIENCE_ROWS
    for source in sources:
        for key in source:
            index = key.removeprefix("audience_school_")
            if key.startswith("audience_school_") and index.isdigit() and source[key]:
                rows = max(rows, int(index) + 2)
    return min(rows, MAX_AUDIENCE_ROWS)


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("Attach a file"), help_text=_("A PDF or an image (PNG, JPEG, WebP).")
    )


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def _area_tree(areas: list[Area]) -> list[tuple[Area, list[tuple[Area, list[Area]]]]]:
    children: dict[int | None, list[Area]] = {}
    for area in areas:
        children.setdefault(area.parent_id, []).append(area)
    return [
        (
            municipality,
            [
                (district, children.get(district.pk, []))
                for district in children.get(municipality.pk, [])
            ],
        )
        for municipality in children.get(None, [])
    ]
