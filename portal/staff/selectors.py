"""Reads about staff members."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from portal.staff.roles import Role


def roles_of(user: AbstractBaseUser | AnonymousUser) -> list[Role]:
    if not user.is_authenticated:
        return []
    names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
    return [role for role in Role if role.value in names]
