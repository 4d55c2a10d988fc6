"""What anyone sees of notices without signing in: the list, one notice, its attachments, and the
Atom feed of the notices for everyone.

Every view asks ``portal.notices.selectors`` what is visible: a notice that is not (a draft, a
withdrawn or expired one, a school letter, a targeted notice not marked public) answers 404, so
that its existence is not revealed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.cache import patch_cache_control
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language, gettext_lazy
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from portal.notices import selectors
from portal.notices.models import Category, Notice
from portal.notices.pages import reading_context
from portal.notices.rendering import render_markdown

PAGE_SIZE = 20
FEED_SIZE = 50


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


@require_GET
@vary_on_headers("HX-Request")
def notice_list(request: HtmxRequest) -> HttpResponse:
    category = request.GET.get("category", "")
    if category not in Category.values or category == Category.SCHOOL:
        category = ""
    area_code = request.GET.get("area", "")
    notices = selectors.public_notice_list(category=category, area_code=area_code)
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "notices/public/list.html"
    return render(
        request,
        f"{template}#results" if request.htmx else template,
        {
            "page": page,
            "categories": [c for c in Category if c != Category.SCHOOL],
            "areas": selectors.notice_areas(),
            "selected_category": category,
            "selected_area": area_code,
            "filters": _filters_query(category=category, area_code=area_code),
        },
    )


@require_GET
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = selectors.visible_notice(pk=pk)
    if notice is None:
        successor = selectors.visible_successor(pk=pk)
        if successor is None:
            raise Http404
        return redirect("notices:detail", pk=successor.pk)
    easy = request.GET.get("text") == "easy" and bool(notice.body_easy)
    return render(
        request,
        "notices/public/detail.html",
        reading_context(notice, easy=easy, text_url=reverse("notices:detail", args=[notice.pk])),
    )


@require_GET
def attachment(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    notice = selectors.visible_notice(pk=pk)
    if notice is None:
        raise Http404
    stored = get_object_or_404(notice.attachments, pk=attachment_id)
    response = FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=stored.name,
        content_type=stored.content_type,
    )
    # A withdrawn notice's file must not stay in a shared cache.
    patch_cache_control(response, private=True, no_cache=True)
    return response


class LanguageTaggedAtomFeed(Atom1Feed):
    """Atom with each entry's language on its element (``xml:lang``)."""

    def item_attributes(self, item: dict[str, Any]) -> dict[str, Any]:
        attributes = super().item_attributes(item)
        if item.get("language"):
            attributes["xml:lang"] = item["language"]
        return attributes


class NoticeFeed(Feed[Notice, None]):
    """The notices for everyone, newest first, in the visitor's language where translated."""

    feed_type = LanguageTaggedAtomFeed
    title = gettext_lazy("Machi+ notices")
    subtitle = gettext_lazy("Notices of the city for everyone")
    link = reverse_lazy("notices:list")

    def items(self) -> list[Notice]:
        return list(selectors.public_notices().order_by("-published_at", "-id")[:FEED_SIZE])

    def item_title(self, item: Notice) -> str:
        return item.title_en if _entry_language(item) == "en" else item.title_ja

    def item_description(self, item: Notice) -> str:
        body = item.body_en if _entry_language(item) == "en" else item.body_ja
        return str(render_markdown(body))

    def item_link(self, item: Notice) -> str:
        return reverse("notices:detail", kwargs={"pk": item.pk})

    def item_pubdate(self, item: Notice) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Notice) -> datetime:
        return item.updated_at

    def item_categories(self, item: Notice) -> list[str]:
        return [str(item.get_category_display()), str(item.get_urgency_display())]

    def item_extra_kwargs(self, item: Notice) -> dict[str, Any]:
        return {"language": _entry_language(item)}


def _entry_language(notice: Notice) -> str:
    """English when the visitor reads English and the notice is translated, else Japanese."""
    translated = bool(notice.title_en) and (bool(notice.body_en) or not notice.body_ja)
    return "en" if (get_language() or "ja").startswith("en") and translated else "ja"


def _filters_query(*, category: str, area_code: str) -> str:
    """The filters as a query string, kept by the pagination links."""
    return urlencode({k: v for k, v in (("category", category), ("area", area_code)) if v})
