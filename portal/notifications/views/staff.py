"""Staff see how a notice's messages fared: counts by status, kind and channel, never who."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from portal.models import User
from portal.notices.models import Notice
from portal.notices.selectors import may_view
from portal.notifications.selectors import delivery_counts
from portal.staff.gate import staff_view


@staff_view(permission="portal.access_staff_console")
@require_GET
def deliveries(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = get_object_or_404(Notice, pk=notice_id)
    user = request.user
    if not isinstance(user, User) or not may_view(user, notice):
        raise PermissionDenied
    return render(
        request,
        "notifications/staff/deliveries.html",
        {"notice": notice, "counts": delivery_counts(notice_id=notice.pk)},
    )
