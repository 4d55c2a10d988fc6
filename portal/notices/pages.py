"""What the notices console's templates are given: the editor with its preview and the buttons
the lifecycle allows, the queues, and a notice's history with the differences between its
snapshots. Reads only; the changes are in portal/notices/services.py.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.models import User
from portal.notices import lifecycle
from portal.notices.forms import AttachmentForm, CommentForm, NoticeForm
from portal.notices.models import URGENCY_RANK, Notice, NoticeEvent, Status, Urgency
from portal.notices.rendering import render_markdown
from portal.notices.selectors import may_edit

Action = NoticeEvent.Action
LANGUAGES = ("ja", "en", "easy")
# How a snapshot's keys are named in the history.
SNAPSHOT_LABELS = {
    "status": gettext_lazy("status"),
    "category": gettext_lazy("category"),
    "urgency": gettext_lazy("urgency"),
    "title_ja": gettext_lazy("title (Japanese)"),
    "title_en": gettext_lazy("title (English)"),
    "title_easy": gettext_lazy("title (easy Japanese)"),
    "body_ja": gettext_lazy("text (Japanese)"),
    "body_en": gettext_lazy("text (English)"),
    "body_easy": gettext_lazy("text (easy Japanese)"),
    "publish_at": gettext_lazy("publish at"),
    "expires_at": gettext_lazy("expires at"),
    "department": gettext_lazy("department"),
    "school": gettext_lazy("school"),
    "is_public": gettext_lazy("public"),
    "requires_acknowledgement": gettext_lazy("asks for acknowledgement"),
    "supersedes": gettext_lazy("supersedes"),
    "is_cancellation": gettext_lazy("cancellation"),
    "areas": gettext_lazy("areas"),
    "age_bands": gettext_lazy("age bands"),
    "interests": gettext_lazy("interests"),
    "school_audiences": gettext_lazy("school audiences"),
    "attachments": gettext_lazy("attachments"),
}


@dataclass(frozen=True)
class PreviewText:
    language: str
    title: str
    body: SafeString


def preview_of(data: Any) -> list[PreviewText]:
    """The titles and rendered texts as residents would see them, from the editor's raw input
    (shown even while the form is refused, so that the author sees what they wrote)."""
    labels = {"ja": _("Japanese"), "en": _("English"), "easy": _("Easy Japanese")}
    shown = []
    for code in LANGUAGES:
        title = str(data.get(f"title_{code}", "") or "")
        body = str(data.get(f"body_{code}", "") or "")
        if title or body:
            shown.append(PreviewText(labels[code], title, render_markdown(body)))
    return shown


@dataclass
class EditorPage:
    form: NoticeForm
    notice: Notice | None = None
    preview: list[PreviewText] | None = None
    # The estimated audience asked for without JavaScript (htmx asks notices_staff:estimate).
    estimate: str | None = None
    user: User | None = None
    attachment_form: AttachmentForm = field(default_factory=AttachmentForm)

    def context(self) -> dict[str, Any]:
        notice = self.notice
        editable = notice is None or (
            notice.status in lifecycle.EDITABLE
            and self.user is not None
            and may_edit(self.user, notice)
        )
        preview = self.preview
        if preview is None and notice is not None and not editable:
            # What an approver reviews: the text as residents will see it.
            preview = preview_of(
                {
                    f"{part}_{code}": getattr(notice, f"{part}_{code}")
                    for part in ("title", "body")
                    for code in LANGUAGES
                }  # fmt: skip
            )
        context: dict[str, Any] = {
            "form": self.form,
            "notice": notice,
            "editable": editable,
            "preview": preview,
            "estimate": self.estimate,
            "attachment_form": self.attachment_form,
            "comment_form": CommentForm(),
        }
        if notice is not None and self.user is not None:
            context.update(actions_for(self.user, notice))
            context["editable_letter"] = may_edit(self.user, notice)
            context["attachments"] = list(notice.attachments.all())
            context["sent_back"] = sent_back_comment(notice)
        return context


def actions_for(user: User, notice: Notice) -> dict[str, bool]:
    """Which buttons to show: what the lifecycle allows from here and the user may do (the
    services check again)."""
    allowed = lifecycle.actions_from(notice.status)
    reviewer = user.has_perm("notices.review_notices") and notice.created_by_id != user.pk
    return {
        "can_submit": Action.SUBMITTED in allowed and may_edit(user, notice),
        "can_review": notice.status == Status.IN_REVIEW and reviewer,
        "can_schedule_letter": notice.status == Status.DRAFT
        and Action.APPROVED in allowed
        and notice.school_id is not None
        and user.has_perm("notices.publish_school_letters")
        and may_edit(user, notice),
        "can_emergency_publish": Action.EMERGENCY_PUBLISHED in allowed
        and user.has_perm("notices.emergency_publish")
        and URGENCY_RANK[notice.urgency] >= URGENCY_RANK[Urgency.WARNING],
        "can_second_look": notice.needs_second_look and user.has_perm("notices.review_notices"),
        "can_withdraw": Action.WITHDRAWN in allowed,
    }


def sent_back_comment(notice: Notice) -> NoticeEvent | None:
    """The approver's comment, while the draft it sent back has not been submitted again."""
    if notice.status != Status.DRAFT:
        return None
    last = (
        notice.events.filter(action__in=[Action.SENT_BACK, Action.SUBMITTED])
        .order_by("-id")
        .first()
    )
    return last if last is not None and last.action == Action.SENT_BACK else None


# ----------------------------------------------------------------------------------------------
# History
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    before: str
    after: str
    kind: str  # "changed", "removed", "added"


@dataclass(frozen=True)
class FieldChange:
    label: str
    rows: list[DiffRow]


@dataclass(frozen=True)
class HistoryEntry:
    event: NoticeEvent
    changes: list[FieldChange]


def history_entries(notice: Notice) -> list[HistoryEntry]:
    entries = []
    before: dict[str, Any] = {}
    for event in notice.events.select_related("actor").order_by("id"):
        after = event.snapshot or {}
        entries.append(HistoryEntry(event=event, changes=snapshot_changes(before, after)))
        before = after
    return entries


def snapshot_changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """What differs between two snapshots, line by line (difflib), field by field."""
    changes = []
    for key, label in SNAPSHOT_LABELS.items():
        old, new = _lines(before.get(key)), _lines(after.get(key))
        if old == new:
            continue
        rows = []
        matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            removed, added = old[i1:i2], new[j1:j2]
            for index in range(max(len(removed), len(added))):
                was = removed[index] if index < len(removed) else ""
                now = added[index] if index < len(added) else ""
                kind = "changed" if was and now else ("removed" if was else "added")
                rows.append(DiffRow(before=was, after=now, kind=kind))
        changes.append(FieldChange(label=str(label), rows=rows))
    return changes


def _lines(value: Any) -> list[str]:
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, list):
        return [json.dumps(item, ensure_ascii=False) if isinstance(item, list) else str(item)
                for item in value]  # fmt: skip
    if isinstance(value, bool):
        return [_("yes") if value else _("no")]
    return str(value).splitlines() or [""]


def reading_context(notice: Notice, *, easy: bool, text_url: str) -> dict[str, Any]:
    """What a notice's reading page is given (the public page, and a resident's own list, each
    at its own ``text_url``)."""
    return {
        "notice": notice,
        "text_url": text_url,
        "title": notice.title_easy if easy and notice.title_easy else notice.title,
        "body": render_markdown(notice.body_easy if easy else notice.body),
        # An English page may show an untranslated notice: it is marked as Japanese, so that
        # a screen reader reads it as such (WCAG 3.1.2).
        "title_language": "ja" if easy or notice.title == notice.title_ja else "en",
        "body_language": "ja" if easy or notice.body == notice.body_ja else "en",
        "easy": easy,
        "has_easy": bool(notice.body_easy),
        "urgent": notice.urgency in (Urgency.WARNING, Urgency.EMERGENCY),
        # Attachments are served to anyone holding a public notice's link; a notice aimed at
        # some residents alone keeps them to the staff console for now.
        "attachments": notice.attachments.all() if notice.is_public else [],
    }
