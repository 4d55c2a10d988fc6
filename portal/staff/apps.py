from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """django.contrib.admin with the staff gate's admin site as ``admin.site``."""

    default_site = "portal.staff.admin_site.StaffAdminSite"
