"""/staff/feeds/: sources (failing ones flagged), their runs, and "poll now". Thin views behind
the staff gate; polling happens on the worker."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.feeds import selectors
from portal.feeds.models import Run, Source
from portal.feeds.tasks import poll_source
from portal.infra.health import OK, check_worker
from portal.infra.task_outbox import enqueue_on_commit
from portal.staff.gate import staff_view

VIEW_RUNS = "feeds.view_run"
PAGE_SIZE = 50


@staff_view(permission=VIEW_RUNS)
@require_GET
def feed_overview(request: HttpRequest) -> HttpResponse:
    runs = Paginator(selectors.recent_runs(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "feeds/staff/overview.html",
        {
            "sources": selectors.sources_for_staff(),
            "failing": selectors.failing_sources(),
            "runs": runs,
        },
    )


@staff_view(permission=VIEW_RUNS)
@require_GET
def source_detail(request: HttpRequest, source_id: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=source_id)
    runs = Paginator(selectors.recent_runs(source_id=source.pk), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "feeds/staff/source.html", {"source": source, "runs": runs})


@staff_view(permission=VIEW_RUNS)
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(Run.objects.select_related("source"), pk=run_id)
    return render(request, "feeds/staff/run.html", {"run": run})


@staff_view(permission="feeds.poll_source")
@require_POST
def source_poll_now(request: HttpRequest, source_id: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=source_id)
    if not source.enabled:
        messages.error(request, _("This source is disabled: enable it first to poll it."))
        return redirect("feeds_staff:source", source_id=source.pk)
    enqueue_on_commit(poll_source, source_id=source.pk, origin=Run.Origin.STAFF)
    if check_worker() == OK:
        messages.success(
            request,
            _("%(source)s will be polled in a moment; its run appears below.") % {"source": source},
        )
    else:
        messages.warning(
            request,
            _(
                "%(source)s will be polled when the worker runs again: no worker has reported "
                "for a while. Tell the operator."
            )
            % {"source": source},
        )
    return redirect("feeds_staff:source", source_id=source.pk)
