"""Staff sessions: short-lived, and ended when an account gains powers a session never proved.

A session that logged in with a password before the account had an authenticator, or before it
held a staff role, must not inherit what the account can do now: raising the account's session
epoch (part of every session's authentication hash, see portal.models.User) ends them all at once,
without scanning the session store. The session that made the change keeps going.

A staff login lasts STAFF_SESSION_AGE (12 hours), not allauth's two-week "remember me": a staff
session holds powers over every resident's data. The deadline is fixed at login and kept in the
session; StaffSessionAgeMiddleware logs the session out once it has passed, and caps the
session's own expiry (cookie and store) at it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import F
from django.http import HttpRequest

from portal.models import User
from portal.staff.gate import has_staff_powers

STAFF_SESSION_DEADLINE = "portal.staff_session_deadline"

STAFF_FLAGS = frozenset({"is_staff", "is_superuser"})


def account_sessions_end(*, user_id: int, keep: HttpRequest | None = None) -> None:
    """End every session of the account, except ``keep``'s if it is that account's."""
    User.objects.filter(pk=user_id).update(session_epoch=F("session_epoch") + 1)
    if keep is not None and keep.user.is_authenticated and keep.user.pk == user_id:
        update_session_auth_hash(keep, User.objects.get(pk=user_id))


def end_sessions_on_authenticator_added(
    sender: object, *, request: HttpRequest, user: User, **kwargs: Any
) -> None:
    """Receiver of allauth.mfa.signals.authenticator_added."""
    account_sessions_end(user_id=user.pk, keep=request)


def end_sessions_on_staff_flag_raised(
    sender: object,
    *,
    instance: User,
    raw: bool = False,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    """Receiver of pre_save for User: the staff or superuser flag switched on."""
    if raw or instance.pk is None:
        return
    if update_fields is not None and not update_fields & STAFF_FLAGS:
        # Every login saves last_login alone: no flag can change, so no query for it.
        return
    before = (
        User.objects.filter(pk=instance.pk)
        .values("is_staff", "is_superuser", "session_epoch")
        .first()
    )
    if before is None:
        return
    raised = (instance.is_staff and not before["is_staff"]) or (
        instance.is_superuser and not before["is_superuser"]
    )
    if raised:
        # In the row at once (a save with update_fields would not write it) and in the object
        # (a full save must not write the old value back).
        User.objects.filter(pk=instance.pk).update(session_epoch=F("session_epoch") + 1)
        instance.session_epoch = before["session_epoch"] + 1


def end_sessions_on_role_granted(
    sender: object,
    *,
    instance: object,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    """Receiver of m2m_changed for User.groups and User.user_permissions: a role or permission
    added, from either side (user.groups.add(group) or group.user_set.add(user))."""
    if action != "post_add" or not pk_set:
        return
    user_ids = set(pk_set) if reverse else {instance.pk}  # type: ignore[attr-defined]
    User.objects.filter(pk__in=user_ids).update(session_epoch=F("session_epoch") + 1)
    if not reverse and isinstance(instance, User):
        # The caller's object stays in step with its row (a later save must not undo it).
        instance.refresh_from_db(fields=["session_epoch"])


def limit_staff_session_on_login(
    sender: object, *, request: HttpRequest | None, user: User, **kwargs: Any
) -> None:
    """Receiver of django.contrib.auth's user_logged_in (every allauth login ends in it)."""
    if request is None or not has_staff_powers(user):
        return
    request.session[STAFF_SESSION_DEADLINE] = time.time() + settings.STAFF_SESSION_AGE
    staff_session_expiry_cap(request.session)


def staff_session_expired(session: SessionBase) -> bool:
    deadline = session.get(STAFF_SESSION_DEADLINE)
    return deadline is not None and time.time() >= float(deadline)


def staff_session_expiry_cap(session: SessionBase) -> None:
    """Let the session's cookie and stored row outlive its deadline by nothing.

    allauth sets the expiry from "remember me" after the login signal, so this runs again on
    the way out of every request; it writes only when the expiry is later than the deadline.
    """
    deadline = session.get(STAFF_SESSION_DEADLINE)
    if deadline is None:
        return
    if session.get_expiry_age() > float(deadline) - time.time() + 1:
        session.set_expiry(datetime.fromtimestamp(float(deadline), tz=UTC))
