from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from allauth.account.adapter import get_adapter
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.models import Area, InterestTag, OutboxTask, School, Shelter, StaffAuditEntry, User
from portal.residents.services import (
    account_created_by_staff_record,
    account_delete_by_staff,
    account_password_reset_send,
    admin_log_label,
)

ERASURE_NOTE = _(
    "Everything stored about this account is erased, and each of its consents is withdrawn in "
    "the consent ledger, under the resident's pseudonym."
)


class NoDeleteMixin:
    """Catalogue rows that residents' consented data points at are retired, never deleted:
    the delete page would list (and count) residents' places, children or interests."""

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _staff_member(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # the admin only serves logged-in staff
    return request.user


def _client_ip(request: HttpRequest) -> str:
    # allauth's reading of the address, which honours TRUSTED_PROXY_COUNT behind a proxy.
    return str(get_adapter(request).get_client_ip(request))


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    """Accounts, shown and logged as no more than the account itself.

    Staff never set another account's password here (they could then log in as the resident,
    and the data-use log would count it as the resident's own access): they send allauth's
    reset link to the account's own address. The email cannot be edited either, or a reset link
    could be sent to an address staff chose.
    """

    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active", "date_joined"]
    search_fields = ["email"]
    fieldsets = (
        (None, {"fields": ("email",)}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    actions = ["send_password_reset"]

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if obj is None else [*readonly, "email"]

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        raise PermissionDenied

    @admin.action(description=_("Send a password reset link"), permissions=["change"])
    def send_password_reset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        sent = sum(
            account_password_reset_send(user=user, staff=_staff_member(request), request=request)
            for user in queryset
        )
        message = ngettext(
            "A password reset link was sent to %(count)d account.",
            "A password reset link was sent to %(count)d accounts.",
            sent,
        ) % {"count": sent}
        self.message_user(request, message, messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            # The one password staff still choose: a new account's first (the add view is one
            # transaction, so the audit row stands or falls with the account).
            account_created_by_staff_record(
                user=obj, staff=_staff_member(request), ip_address=_client_ip(request)
            )

    def get_deleted_objects(
        self, objs: Iterable[User], request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        """The accounts alone, each with a sentence on what happens to its data.

        Django's own list walks every related row: the resident's places, children, interests
        and consents, shown to staff outside the consent gate. What goes with an account is
        the account_delete service's business, so no per-model delete permission is asked
        either.
        """
        accounts = list(objs)
        listed: list[Any] = []
        for account in accounts:
            listed += [str(account), [ERASURE_NOTE]]
        return listed, {str(User._meta.verbose_name_plural): len(accounts)}, set(), []

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        # Through the same service as "delete my account": the ledger records the withdrawals.
        account_delete_by_staff(
            user=obj, staff=_staff_member(request), ip_address=_client_ip(request)
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            account_delete_by_staff(
                user=user, staff=_staff_member(request), ip_address=_client_ip(request)
            )

    def log_addition(self, request: HttpRequest, obj: User, message: Any) -> LogEntry:
        return self._log(request, obj, ADDITION, message)

    def log_change(self, request: HttpRequest, obj: User, message: Any) -> LogEntry:
        return self._log(request, obj, CHANGE, message)

    def log_deletions(self, request: HttpRequest, queryset: Iterable[User]) -> list[LogEntry]:
        return [self._log(request, user, DELETION, "") for user in queryset]

    def _log(self, request: HttpRequest, user: User, flag: int, message: Any) -> LogEntry:
        # Django's own entries name the object by str(user), the email, which would outlive a
        # deleted resident beside the ledger's pseudonymous withdrawals of the same minute.
        return LogEntry.objects.create(
            user_id=_staff_member(request).pk,
            content_type=ContentType.objects.get_for_model(User, for_concrete_model=False),
            object_id=str(user.pk),
            object_repr=admin_log_label(user),
            action_flag=flag,
            change_message=json.dumps(message) if isinstance(message, list) else message,
        )


@admin.register(Area)
class AreaAdmin(NoDeleteMixin, admin.ModelAdmin[Area]):
    list_display = ["code", "name_ja", "name_en", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["code", "name_ja", "name_en", "name_kana"]
    raw_id_fields = ["parent"]


@admin.register(Shelter)
class ShelterAdmin(admin.ModelAdmin[Shelter]):
    list_display = ["name_ja", "kind", "area", "address"]
    list_filter = ["kind", "for_flood", "for_landslide", "for_earthquake"]
    search_fields = ["name_ja", "address"]
    raw_id_fields = ["area"]


@admin.register(School)
class SchoolAdmin(NoDeleteMixin, admin.ModelAdmin[School]):
    list_display = ["code", "name_ja", "kind", "area"]
    list_filter = ["kind"]
    search_fields = ["code", "name_ja"]
    raw_id_fields = ["area"]


@admin.register(InterestTag)
class InterestTagAdmin(NoDeleteMixin, admin.ModelAdmin[InterestTag]):
    """The curated interest list residents choose from (not residents' choices: those are
    consented data and never shown here)."""

    list_display = ["code", "name_ja", "name_en", "position"]
    list_editable = ["position"]


@admin.register(StaffAuditEntry)
class StaffAuditEntryAdmin(admin.ModelAdmin[StaffAuditEntry]):
    """Read-only: the log is written by the actions it records, never by hand."""

    list_display = ["occurred_at", "actor_email", "action", "reference", "subject_pseudonym"]
    list_filter = ["action"]
    search_fields = ["actor_email", "reference", "subject_pseudonym"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OutboxTask)
class OutboxTaskAdmin(admin.ModelAdmin[OutboxTask]):
    """Tasks waiting for the broker, and those given up after failing (portal/infra/task_outbox.py).

    The arguments are not shown: an email waiting here holds its text, codes and links included.
    An operator can discard a task (delete) or try a given-up one again.
    """

    list_display = ["id", "task_name", "created_at", "attempts", "gave_up_at", "last_error"]
    list_filter = ["task_name", ("gave_up_at", admin.EmptyFieldListFilter)]
    fields = ["task_name", "created_at", "attempts", "gave_up_at", "last_error"]
    readonly_fields = ["task_name", "created_at", "attempts", "gave_up_at", "last_error"]
    actions = ["try_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Try the selected tasks again"))
    def try_again(self, request: HttpRequest, queryset: QuerySet[OutboxTask]) -> None:
        count = queryset.update(gave_up_at=None, attempts=0)
        self.message_user(
            request,
            ngettext(
                "%(count)d task will be sent again.", "%(count)d tasks will be sent again.", count
            )
            % {"count": count},
        )
