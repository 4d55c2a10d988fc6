"""The staff audit log, append-only in the database as well as in the ORM.

On PostgreSQL triggers refuse TRUNCATE (outside flushed test databases), DELETE and any UPDATE except the one Django's SET_NULL makes
when a staff account is deleted (actor_id to NULL, every other column unchanged): the log
must outlive the accounts it names, through their kept email.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

AUDIT_TRIGGER = r"""
CREATE OR REPLACE FUNCTION portal_staff_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
       AND (NEW.id, NEW.occurred_at, NEW.actor_email, NEW.action, NEW.subject_pseudonym,
            NEW.reference, NEW.detail::text, NEW.ip_address)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.occurred_at, OLD.actor_email, OLD.action, OLD.subject_pseudonym,
            OLD.reference, OLD.detail::text, OLD.ip_address) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'portal_staffauditentry is append-only (%% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER portal_staffauditentry_append_only
    BEFORE UPDATE OR DELETE ON portal_staffauditentry
    FOR EACH ROW EXECUTE FUNCTION portal_staff_audit_append_only();

-- As for the consent ledger (consent migration 0006): only a test database (named test_...)
-- whose session asked for it may be flushed; tests/conftest.py asks.
CREATE OR REPLACE FUNCTION portal_staff_audit_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_database() LIKE 'test\_%%'
       AND current_setting('consent.allow_test_flush', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'portal_staffauditentry is append-only: TRUNCATE refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER portal_staffauditentry_no_truncate
    BEFORE TRUNCATE ON portal_staffauditentry
    FOR EACH STATEMENT EXECUTE FUNCTION portal_staff_audit_no_truncate();
"""

DROP_AUDIT_TRIGGER = """
DROP TRIGGER IF EXISTS portal_staffauditentry_append_only ON portal_staffauditentry;
DROP TRIGGER IF EXISTS portal_staffauditentry_no_truncate ON portal_staffauditentry;
DROP FUNCTION IF EXISTS portal_staff_audit_append_only();
DROP FUNCTION IF EXISTS portal_staff_audit_no_truncate();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(AUDIT_TRIGGER)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_AUDIT_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_user_session_epoch"),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffAuditEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "occurred_at",
                    models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="when"),
                ),
                (
                    "actor_email",
                    models.EmailField(
                        blank=True, max_length=254, verbose_name="staff member's email"
                    ),
                ),
                ("action", models.CharField(db_index=True, max_length=64, verbose_name="action")),
                (
                    "subject_pseudonym",
                    models.UUIDField(blank=True, null=True, verbose_name="resident (pseudonym)"),
                ),
                (
                    "reference",
                    models.CharField(blank=True, max_length=64, verbose_name="reference"),
                ),
                ("detail", models.JSONField(blank=True, default=dict, verbose_name="detail")),
                (
                    "ip_address",
                    models.GenericIPAddressField(blank=True, null=True, verbose_name="IP address"),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="staff member",
                    ),
                ),
            ],
            options={
                "verbose_name": "staff audit entry",
                "verbose_name_plural": "staff audit log",
                "ordering": ["-occurred_at", "-id"],
            },
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
