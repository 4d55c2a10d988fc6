"""The staff console's notice pages. Thin views: the staff gate checks login, MFA and the
page's permission; the services decide who may do what to which notice (PermissionDenied is a
403) and whether the lifecycle allows it (TransitionNotAllowed becomes a message). Every form
posts and redirects, and works without JavaScript; htmx only refreshes the preview.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.models import User
from portal.notices import follow_up, lifecycle, services
from portal.notices.forms import AttachmentForm, CommentForm, NoticeForm
from portal.notices.models import Attachment, Notice, Status
from portal.notices.pages import EditorPage, history_entries, preview_of
from portal.notices.selectors import (
    editable_notices,
    may_edit,
    may_view,
    review_queue,
    second_look_queue,
)
from portal.notices.views.estimate import estimate_text
from portal.staff.gate import staff_view

CONSOLE = "portal.access_staff_console"
REVIEW = "notices.review_notices"
EMERGENCY = "notices.emergency_publish"
EDITOR = "notices/staff/editor.html"


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User), "behind the staff gate"
    return user


def _viewable(request: HttpRequest, notice_id: int) -> Notice:
    notice = get_object_or_404(Notice, pk=notice_id)
    if not may_view(_staff(request), notice):
        raise PermissionDenied
    return notice


def _refused_transition(request: HttpRequest, refusal: lifecycle.TransitionNotAllowed) -> None:
    messages.error(
        request,
        _("This cannot be done to a notice that is %(status)s.")
        % {"status": Notice(status=refusal.status).get_status_display()},
    )


def _status(form: NoticeForm, page: EditorPage) -> int:
    asked_only = page.preview is not None or page.estimate is not None
    return 400 if not asked_only and form.is_bound and form.errors else 200


# ----------------------------------------------------------------------------------------------
# Lists
# ----------------------------------------------------------------------------------------------


@staff_view(permission=CONSOLE)
@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "notices/staff/list.html", {"notices": editable_notices(_staff(request))}
    )


@staff_view(permission=REVIEW)
@require_GET
def notice_review_queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "notices/staff/queue.html",
        {
            "notices": review_queue().select_related("department", "school"),
            "comment_form": CommentForm(),
            "heading": _("Notices waiting for review"),
            "second_look": False,
        },
    )


@staff_view(permission=REVIEW)
@require_GET
def notice_second_look_queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "notices/staff/queue.html",
        {
            "notices": second_look_queue().select_related("department", "school"),
            "heading": _("Published without review: take a second look"),
            "second_look": True,
        },
    )


# ----------------------------------------------------------------------------------------------
# The editor
# ----------------------------------------------------------------------------------------------


@staff_view(permission=CONSOLE)
@require_http_methods(["GET", "POST"])
def notice_new(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    form = NoticeForm(request.POST or None, user=user)
    page = EditorPage(form=form, user=user)
    if request.method == "POST":
        if request.POST.get("action") == "preview":
            page.preview = preview_of(request.POST)
        elif request.POST.get("action") == "estimate":
            page.estimate = estimate_text(request)
        elif form.is_valid():
            try:
                notice = services.notice_create(author=user, draft=form.to_draft())
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("The draft is saved."))
                return redirect("notices_staff:edit", notice_id=notice.pk)
    return render(request, EDITOR, page.context(), status=_status(form, page))


@staff_view(permission=CONSOLE)
@require_http_methods(["GET", "POST"])
def notice_edit(request: HttpRequest, notice_id: int) -> HttpResponse:
    user = _staff(request)
    notice = _viewable(request, notice_id)
    if request.method == "POST" and not may_edit(user, notice):
        raise PermissionDenied
    form = NoticeForm(request.POST or None, user=user, initial=NoticeForm.initial_of(notice))
    page = EditorPage(form=form, notice=notice, user=user)
    if request.method == "POST":
        if request.POST.get("action") == "preview":
            page.preview = preview_of(request.POST)
        elif request.POST.get("action") == "estimate":
            page.estimate = estimate_text(request)
        elif form.is_valid():
            try:
                services.notice_update(editor=user, notice_id=notice.pk, draft=form.to_draft())
            except ValidationError as error:
                form.add_service_errors(error)
            except lifecycle.TransitionNotAllowed as refusal:
                _refused_transition(request, refusal)
                return redirect("notices_staff:edit", notice_id=notice.pk)
            else:
                messages.success(request, _("The draft is saved."))
                return redirect("notices_staff:edit", notice_id=notice.pk)
    return render(request, EDITOR, page.context(), status=_status(form, page))


@staff_view(permission=CONSOLE)
@require_POST
def notice_preview(request: HttpRequest) -> HttpResponse:
    """The preview region for htmx: the editor posts its fields here as the author types."""
    return render(request, f"{EDITOR}#preview", {"preview": preview_of(request.POST)})


@staff_view(permission=CONSOLE)
@require_POST
def notice_attach(request: HttpRequest, notice_id: int) -> HttpResponse:
    user = _staff(request)
    notice = _viewable(request, notice_id)
    attachment_form = AttachmentForm(request.POST, request.FILES)
    if attachment_form.is_valid():
        try:
            services.notice_attach(
                editor=user, notice_id=notice.pk, upload=attachment_form.cleaned_data["file"]
            )
        except ValidationError as error:
            attachment_form.add_error("file", error)
        except lifecycle.TransitionNotAllowed as refusal:
            _refused_transition(request, refusal)
            return redirect("notices_staff:edit", notice_id=notice.pk)
        else:
            messages.success(request, _("The file is attached."))
            return redirect("notices_staff:edit", notice_id=notice.pk)
    form = NoticeForm(user=user, initial=NoticeForm.initial_of(notice))
    page = EditorPage(form=form, notice=notice, user=user, attachment_form=attachment_form)
    return render(request, EDITOR, page.context(), status=400)


@staff_view(permission=CONSOLE)
@require_POST
def notice_detach(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = get_object_or_404(Attachment, pk=attachment_id)
    notice_id = attachment.notice_id
    _viewable(request, notice_id)
    try:
        services.notice_detach(editor=_staff(request), attachment_id=attachment.pk)
    except lifecycle.TransitionNotAllowed as refusal:
        _refused_transition(request, refusal)
    else:
        messages.success(request, _("The file is removed."))
    return redirect("notices_staff:edit", notice_id=notice_id)


# ----------------------------------------------------------------------------------------------
# Transitions: one POST each, then back to the notice (or the queue it came from)
# ----------------------------------------------------------------------------------------------


def _transition(
    request: HttpRequest,
    notice_id: int,
    act: Callable[[User, int, str], object],
    done: str,
) -> HttpResponse:
    notice = _viewable(request, notice_id)
    try:
        act(_staff(request), notice.pk, request.POST.get("comment", ""))
    except lifecycle.TransitionNotAllowed as refusal:
        _refused_transition(request, refusal)
    except ValidationError as error:
        for problem in error.messages:
            messages.error(request, problem)
    else:
        messages.success(request, done)
    back = request.POST.get("back", "")
    if back in {"review", "second_look"}:
        return redirect(f"notices_staff:{back}")
    return redirect("notices_staff:edit", notice_id=notice.pk)


@staff_view(permission=CONSOLE)
@require_POST
def notice_submit(request: HttpRequest, notice_id: int) -> HttpResponse:
    return _transition(
        request,
        notice_id,
        lambda user, pk, _comment: services.notice_submit(author=user, notice_id=pk),
        _("The notice is submitted for review."),
    )


@staff_view(permission=CONSOLE)
@require_POST
def notice_approve(request: HttpRequest, notice_id: int) -> HttpResponse:
    """Approvers approve what is in review; school staff schedule their own letters."""
    return _transition(
        request,
        notice_id,
        lambda user, pk, _comment: services.notice_approve(approver=user, notice_id=pk),
        _("The notice is approved."),
    )


@staff_view(permission=REVIEW)
@require_POST
def notice_send_back(request: HttpRequest, notice_id: int) -> HttpResponse:
    return _transition(
        request,
        notice_id,
        lambda user, pk, comment: services.notice_send_back(
            approver=user, notice_id=pk, comment=comment
        ),
        _("The notice is sent back to its author with your comment."),
    )


@staff_view(permission=EMERGENCY)
@require_POST
def notice_emergency_publish(request: HttpRequest, notice_id: int) -> HttpResponse:
    return _transition(
        request,
        notice_id,
        lambda user, pk, _comment: services.notice_emergency_publish(officer=user, notice_id=pk),
        _("The notice is published without review. Approvers will take a second look."),
    )


@staff_view(permission=REVIEW)
@require_POST
def notice_second_look(request: HttpRequest, notice_id: int) -> HttpResponse:
    return _transition(
        request,
        notice_id,
        lambda user, pk, comment: services.notice_second_look(
            approver=user, notice_id=pk, comment=comment
        ),
        _("The second look is recorded."),
    )


@staff_view(permission=CONSOLE)
@require_POST
def notice_withdraw(request: HttpRequest, notice_id: int) -> HttpResponse:
    return _transition(
        request,
        notice_id,
        lambda user, pk, comment: services.notice_withdraw(
            staff=user, notice_id=pk, comment=comment
        ),
        _("The notice is withdrawn."),
    )


# ----------------------------------------------------------------------------------------------
# History
# ----------------------------------------------------------------------------------------------


@staff_view(permission=CONSOLE)
@require_GET
def notice_history(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = _viewable(request, notice_id)
    return render(
        request,
        "notices/staff/history.html",
        {"notice": notice, "entries": history_entries(notice)},
    )


@staff_view(permission="notices.publish_school_letters")
@require_GET
def letter_follow_up(request: HttpRequest, notice_id: int) -> HttpResponse:
    """A school's follow-up of a letter asking for acknowledgement (notices/follow_up.py)."""
    user = _staff(request)
    notice = _viewable(request, notice_id)
    if not (may_edit(user, notice) and notice.requires_acknowledgement):
        raise PermissionDenied
    if notice.status != Status.PUBLISHED:
        # Nobody has received a draft: there is nobody to follow up.
        raise Http404
    return render(
        request,
        "notices/staff/follow_up.html",
        {"notice": notice, "follow_up": follow_up.letter_follow_up(letter=notice, staff=user)},
    )
