"""A parent's school letters: the letters meant for their children, each one's attachments, and
"I have read this" for a letter that asks for it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.models import User
from portal.notices.models import Acknowledgement, Notice
from portal.notices.rendering import render_markdown
from portal.notices.selectors import letters_for_resident
from portal.notices.services import notice_acknowledge


class ParentRequest(HttpRequest):
    """A request that passed ``login_required``."""

    user: User


@login_required
@require_GET
def my_letters(request: ParentRequest) -> HttpResponse:
    letters = list(letters_for_resident(resident_id=request.user.pk))
    confirmed = set(
        Acknowledgement.objects.filter(resident_id=request.user.pk, notice__in=letters).values_list(
            "notice_id", flat=True
        )
    )
    return render(
        request,
        "notices/letters/list.html",
        {"letters": [(letter, letter.pk in confirmed) for letter in letters]},
    )


@login_required
@require_GET
def letter(request: ParentRequest, pk: int) -> HttpResponse:
    notice = _letter_of(request, pk)
    acknowledgement = Acknowledgement.objects.filter(
        notice=notice, resident=request.user.pk
    ).first()
    return render(
        request,
        "notices/letters/detail.html",
        {
            "letter": notice,
            "body": render_markdown(notice.body),
            "acknowledgement": acknowledgement,
            "attachments": notice.attachments.all(),
        },
    )


@login_required
@require_POST
def acknowledge(request: ParentRequest, pk: int) -> HttpResponse:
    try:
        notice_acknowledge(resident=request.user, notice_id=pk)
    except Notice.DoesNotExist:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Thank you: the school can see that you have read it."))
    return redirect("letters:letter", pk=pk)


@login_required
@require_GET
def attachment(request: ParentRequest, pk: int, attachment_id: int) -> FileResponse:
    notice = _letter_of(request, pk)
    stored = get_object_or_404(notice.attachments, pk=attachment_id)
    return FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=stored.name,
        content_type=stored.content_type,
    )


def _letter_of(request: ParentRequest, pk: int) -> Notice:
    """The letter, if it is meant for one of this parent's children; 404 for any other."""
    notice = letters_for_resident(resident_id=request.user.pk).filter(pk=pk).first()
    if notice is None:
        raise Http404
    return notice
