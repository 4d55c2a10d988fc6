"""A notice goes draft → in review → approved → published → expired / withdrawn / superseded,
and only along the transitions of portal/notices/lifecycle.py, each with a history row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portal.models import OutboxTask
from portal.notices import lifecycle
from portal.notices.lifecycle import TransitionNotAllowed
from portal.notices.models import Notice, NoticeEvent, Status
from portal.notices.services import (
    notice_approve,
    notice_emergency_publish,
    notice_second_look,
    notice_send_back,
    notice_submit,
    notice_update,
    notice_withdraw,
    notices_expire_due,
    notices_publish_due,
)
from portal.notices.tasks import announce_change
from tests.notices.conftest import draft, written

pytestmark = pytest.mark.django_db


def history(notice: Notice) -> list[tuple[str, str, str]]:
    return list(
        NoticeEvent.objects.filter(notice=notice)
        .order_by("id")
        .values_list("action", "from_status", "to_status")
    )


def announced() -> list[dict[str, object]]:
    return list(
        OutboxTask.objects.filter(task_name=announce_change.name)
        .order_by("id")
        .values_list("kwargs", flat=True)
    )


def test_a_new_notice_is_a_draft_with_its_creation_in_the_history(publisher) -> None:
    notice = written(publisher)
    assert notice.status == Status.DRAFT
    assert history(notice) == [("created", "", "draft")]


def test_submit_approve_publishes_a_notice_due_now(publisher, approver) -> None:
    notice = written(publisher)
    notice_submit(author=publisher, notice_id=notice.pk)
    notice_approve(approver=approver, notice_id=notice.pk)

    notice.refresh_from_db()
    assert notice.status == Status.PUBLISHED
    assert notice.published_at is not None
    assert [action for action, _s, _t in history(notice)] == [
        "created", "submitted", "approved", "published",
    ]  # fmt: skip


def test_a_notice_approved_for_later_waits_until_beat_publishes_it(publisher, approver) -> None:
    later = timezone.now() + timedelta(hours=2)
    notice = written(publisher, publish_at=later)
    notice_submit(author=publisher, notice_id=notice.pk)
    notice_approve(approver=approver, notice_id=notice.pk)
    assert Notice.objects.get(pk=notice.pk).status == Status.APPROVED

    assert notices_publish_due(now=later - timedelta(minutes=1)) == []
    assert notices_publish_due(now=later) == [notice.pk]
    assert notices_publish_due(now=later + timedelta(minutes=1)) == []
    assert Notice.objects.get(pk=notice.pk).status == Status.PUBLISHED


def test_beat_expires_a_published_notice_once_and_only_once(publisher, approver) -> None:
    ends = timezone.now() + timedelta(days=1)
    notice = written(publisher, expires_at=ends)
    notice_submit(author=publisher, notice_id=notice.pk)
    notice_approve(approver=approver, notice_id=notice.pk)

    assert notices_expire_due(now=ends) == [notice.pk]
    assert notices_expire_due(now=ends + timedelta(hours=1)) == []
    notice.refresh_from_db()
    assert notice.status == Status.EXPIRED
    assert notice.ended_at == ends


def test_sending_back_returns_the_notice_to_its_author_with_the_comment(
    publisher, approver
) -> None:
    notice = written(publisher)
    notice_submit(author=publisher, notice_id=notice.pk)
    notice_send_back(approver=approver, notice_id=notice.pk, comment="日付を確認してください")

    assert Notice.objects.get(pk=notice.pk).status == Status.DRAFT
    event = NoticeEvent.objects.filter(notice=notice).last()
    assert event is not None
    assert (event.action, event.comment, event.actor) == (
        "sent_back",
        "日付を確認してください",
        approver,
    )


def test_sending_back_needs_a_comment(publisher, approver) -> None:
    notice = written(publisher)
    notice_submit(author=publisher, notice_id=notice.pk)
    with pytest.raises(ValidationError):
        notice_send_back(approver=approver, notice_id=notice.pk, comment="  ")
    assert Notice.objects.get(pk=notice.pk).status == Status.IN_REVIEW


def test_a_notice_in_review_cannot_be_edited(publisher) -> None:
    notice = written(publisher)
    notice_submit(author=publisher, notice_id=notice.pk)
    with pytest.raises(TransitionNotAllowed):
        notice_update(editor=publisher, notice_id=notice.pk, draft=draft(title_ja="変更"))
    assert Notice.objects.get(pk=notice.pk).title_ja == "道路工事のお知らせ"


def test_a_draft_cannot_be_approved_without_review(publisher, approver) -> None:
    notice = written(publisher)
    with pytest.raises(TransitionNotAllowed):
        notice_approve(approver=approver, notice_id=notice.pk)
    assert Notice.objects.get(pk=notice.pk).status == Status.DRAFT


def test_nobody_approves_a_notice_they_wrote(publisher, approver) -> None:
    approver.groups.add(*publisher.groups.all())
    approver.notice_departments.add(*publisher.notice_departments.all())
    notice = written(approver)
    notice_submit(author=approver, notice_id=notice.pk)
    with pytest.raises(PermissionDenied):
        notice_approve(approver=approver, notice_id=notice.pk)
    assert Notice.objects.get(pk=notice.pk).status == Status.IN_REVIEW


def test_nobody_approves_a_notice_they_edited(publisher, approver) -> None:
    approver.groups.add(*publisher.groups.all())
    approver.notice_departments.add(*publisher.notice_departments.all())
    notice = written(publisher)
    notice_update(editor=approver, notice_id=notice.pk, draft=draft(title_ja="直した"))
    notice_submit(author=publisher, notice_id=notice.pk)
    with pytest.raises(PermissionDenied):
        notice_approve(approver=approver, notice_id=notice.pk)


def test_a_publisher_cannot_approve(publisher) -> None:
    other = written(publisher)
    notice_submit(author=publisher, notice_id=other.pk)
    colleague = type(publisher).objects.create_user("colleague@city.example.jp", "x" * 16)
    colleague.groups.add(*publisher.groups.all())
    with pytest.raises(PermissionDenied):
        notice_approve(approver=colleague, notice_id=other.pk)


def test_a_disaster_officer_publishes_a_warning_without_review_for_a_second_look(
    disaster_officer, approver
) -> None:
    notice = written(disaster_officer, category="disaster", urgency="warning", department_code="")
    notice_emergency_publish(officer=disaster_officer, notice_id=notice.pk)

    notice.refresh_from_db()
    assert notice.status == Status.PUBLISHED
    assert notice.needs_second_look
    assert history(notice)[-1] == ("emergency_published", "draft", "published")

    notice_second_look(approver=approver, notice_id=notice.pk, comment="確認しました")
    assert not Notice.objects.get(pk=notice.pk).needs_second_look


def test_information_cannot_be_published_without_review(disaster_officer) -> None:
    notice = written(disaster_officer, category="disaster", urgency="advisory", department_code="")
    with pytest.raises(ValidationError):
        notice_emergency_publish(officer=disaster_officer, notice_id=notice.pk)
    assert Notice.objects.get(pk=notice.pk).status == Status.DRAFT


def test_a_publisher_cannot_publish_without_review(publisher) -> None:
    notice = written(publisher, urgency="emergency")
    with pytest.raises(PermissionDenied):
        notice_emergency_publish(officer=publisher, notice_id=notice.pk)


def test_publishing_a_successor_supersedes_the_earlier_notice(publisher, approver) -> None:
    first = written(publisher)
    notice_submit(author=publisher, notice_id=first.pk)
    notice_approve(approver=approver, notice_id=first.pk)
    update = written(publisher, title_ja="道路工事（延期）", supersedes_id=first.pk)
    notice_submit(author=publisher, notice_id=update.pk)
    notice_approve(approver=approver, notice_id=update.pk)

    first.refresh_from_db()
    assert first.status == Status.SUPERSEDED
    assert history(first)[-1] == ("superseded", "published", "superseded")


def test_withdrawing_needs_a_reason_and_ends_the_notice(publisher, approver) -> None:
    notice = written(publisher)
    notice_submit(author=publisher, notice_id=notice.pk)
    notice_approve(approver=approver, notice_id=notice.pk)
    with pytest.raises(ValidationError):
        notice_withdraw(staff=publisher, notice_id=notice.pk, comment="")
    notice_withdraw(staff=publisher, notice_id=notice.pk, comment="誤りがありました")
    assert Notice.objects.get(pk=notice.pk).status == Status.WITHDRAWN


def test_what_residents_see_changing_is_announced_once_the_transaction_commits(
    publisher, approver, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    monkeypatch.setattr("portal.infra.task_outbox._send_now", lambda *args: None)
    first = written(publisher)
    notice_submit(author=publisher, notice_id=first.pk)
    with django_capture_on_commit_callbacks(execute=True):
        notice_approve(approver=approver, notice_id=first.pk)
    second = written(publisher, supersedes_id=first.pk)
    notice_submit(author=publisher, notice_id=second.pk)
    with django_capture_on_commit_callbacks(execute=True):
        notice_approve(approver=approver, notice_id=second.pk)

    assert announced() == [
        {"notice_id": first.pk, "change": "published"},
        {"notice_id": second.pk, "change": "published"},
        {"notice_id": first.pk, "change": "superseded"},
    ]


def test_the_announcement_sends_the_notice_changed_signal(publisher) -> None:
    from portal.notices.signals import notice_changed

    notice = written(publisher)
    heard = []

    def receiver(sender, notice_id, change, **kwargs):
        heard.append((notice_id, change))

    notice_changed.connect(receiver)
    try:
        assert announce_change.run(notice_id=notice.pk, change="published") >= 1
    finally:
        notice_changed.disconnect(receiver)
    assert heard == [(notice.pk, "published")]


def test_every_transition_leaves_a_final_state_closed() -> None:
    for final in lifecycle.FINAL:
        assert lifecycle.actions_from(final) == frozenset()


def test_the_history_is_append_only(publisher) -> None:
    event = NoticeEvent.objects.filter(notice=written(publisher)).get()
    event.comment = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
