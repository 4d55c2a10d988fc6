"""/staff/snow/vehicles/: register plow vehicles, issue their tokens (shown once) and revoke
them. Thin views behind the staff gate; writes in portal/snow/services.py."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.snow import services
from portal.snow.forms import VehicleForm
from portal.snow.models import SnowOperations, Vehicle, VehicleToken
from portal.snow.notices import snow_operations_set
from portal.staff.gate import staff_view

MANAGE = "snow.manage_vehicles"


@staff_view(permission=MANAGE)
@require_http_methods(["GET", "POST"])
@never_cache
def vehicle_list(request: HttpRequest) -> HttpResponse:
    form = VehicleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            vehicle = services.vehicle_add(**form.cleaned_data)
        except services.VehicleNameTaken:
            # Registered a moment ago by someone else, after the form's own check.
            form.add_error("name", _("A vehicle of this name is registered already."))
        else:
            return _with_new_token(request, vehicle)
    return render(
        request,
        "snow/staff/vehicles.html",
        {
            "vehicles": Vehicle.objects.prefetch_related("tokens"),
            "form": form,
            "operations": SnowOperations.current(),
        },
        status=400 if form.errors else 200,
    )


@staff_view(permission=MANAGE)
@require_POST
def operations_switch(request: HttpRequest) -> HttpResponse:
    active = request.POST.get("active") == "on"
    ended = snow_operations_set(active=active, by=getattr(request.user, "email", ""))
    if active:
        messages.success(request, _("Snow operations are active: plowed areas get snow notices."))
    else:
        messages.success(
            request,
            _("Snow operations ended: %(count)s snow notices ended.") % {"count": ended},
        )
    return redirect("snow_staff:vehicles")


@staff_view(permission=MANAGE)
@require_GET
def vehicle_detail(request: HttpRequest, vehicle_id: int) -> HttpResponse:
    vehicle = get_object_or_404(Vehicle, pk=vehicle_id)
    return render(request, "snow/staff/vehicle.html", {"vehicle": vehicle, "token": None})


@staff_view(permission=MANAGE)
@require_POST
@never_cache
def token_issue(request: HttpRequest, vehicle_id: int) -> HttpResponse:
    vehicle = get_object_or_404(Vehicle, pk=vehicle_id)
    return _with_new_token(request, vehicle)


@staff_view(permission=MANAGE)
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(VehicleToken, pk=token_id)
    services.token_revoke(token_id=token.pk)
    messages.success(
        request, _("The token beginning %(prefix)s is revoked.") % {"prefix": token.prefix}
    )
    return redirect("snow_staff:vehicle", vehicle_id=token.vehicle_id)


def _with_new_token(request: HttpRequest, vehicle: Vehicle) -> HttpResponse:
    # Answered here, not after a redirect: the token is shown once and kept nowhere, not even
    # in the session.
    token = services.token_issue(vehicle_id=vehicle.pk)
    return render(request, "snow/staff/vehicle.html", {"vehicle": vehicle, "token": token})
