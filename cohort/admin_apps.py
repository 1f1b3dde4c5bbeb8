from django.contrib.admin.apps import AdminConfig


class PitwallAdminConfig(AdminConfig):
    """Django's admin with Pitwall's programme-scoped site (imports no models at load)."""

    default_site = "cohort.admin_site.PitwallAdminSite"
