"""Staff roles as Django groups, kept in step with the code after every migration.

Later features add their permissions to these roles here, in one place.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class Role(TextChoices):
    PUBLISHER = "publisher", _("Publisher")
    APPROVER = "approver", _("Approver")
    CONSENT_OFFICER = "consent_officer", _("Consent officer")
    COUNTER_CLERK = "counter_clerk", _("Counter clerk")
    DISASTER_OFFICER = "disaster_officer", _("Disaster officer")
    SCHOOL_STAFF = "school_staff", _("School staff")
    ADMINISTRATOR = "administrator", _("Administrator")


ROLE_PERMISSIONS: dict[Role, list[str]] = {
    # A publisher writes the notices of their departments (portal/notices/selectors.py).
    Role.PUBLISHER: ["portal.access_staff_console", "notices.edit_notices"],
    Role.APPROVER: ["portal.access_staff_console", "notices.review_notices"],
    # Writes disaster notices and publishes warnings without review; approvers look again.
    # Watches the feeds that bring warnings, and polls a source at once when it matters.
    Role.DISASTER_OFFICER: [
        "portal.access_staff_console",
        "notices.emergency_publish",
        "feeds.view_run",
        "feeds.poll_source",
        # Registers the plows and issues and revokes their devices' tokens.
        "snow.manage_vehicles",
    ],
    # Writes and schedules the letters of their schools only.
    Role.SCHOOL_STAFF: ["portal.access_staff_console", "notices.publish_school_letters"],
    # Manages departments and school staff memberships in the admin (it needs Django's is_staff
    # flag, as every admin user does).
    Role.ADMINISTRATOR: [
        "portal.access_staff_console",
        "notices.manage_notice_staff",
        *(
            f"notices.{action}_{model}"
            for model in ("department", "schoolstaffmembership")
            for action in ("view", "add", "change", "delete")
        ),
        "snow.manage_vehicles",
        # Adds and changes feed sources and the table of their area codes (in the admin).
        "feeds.view_run",
        "feeds.poll_source",
        *(
            f"feeds.{action}_{model}"
            for model in ("source", "areacode")
            for action in ("view", "add", "change", "delete")
        ),
        # Reviews the consent reports beside the consent officers, and sees in the audit log
        # who viewed and exported them.
        "consent.view_consent_reports",
        "portal.view_staffauditentry",
    ],
    # Separation of duties: who supervises the register and reads the audit log does not type
    # forms in at the counter (the counter refuses them), so nobody can both try an address and
    # see whether it matched an account.
    Role.CONSENT_OFFICER: [
        "portal.access_staff_console",
        "consent.manage_paper_forms",
        "portal.view_staffauditentry",
        "consent.view_consent_reports",
    ],
    Role.COUNTER_CLERK: ["portal.access_staff_console", "consent.record_counter_consent"],
}


def sync_role_groups(**kwargs: Any) -> None:
    """Create each role's group and give it exactly the permissions listed above."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    # post_migrate may reach this handler before auth has created this run's permissions.
    for app_label in {name.split(".")[0] for names in ROLE_PERMISSIONS.values() for name in names}:
        create_permissions(apps.get_app_config(app_label), verbosity=0)

    for role, permission_names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        permissions = []
        for name in permission_names:
            app_label, codename = name.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None:
                logger.warning("Role %s names unknown permission %s", role, name)
                continue
            permissions.append(permission)
        group.permissions.set(permissions)
