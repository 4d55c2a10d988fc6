"""On PostgreSQL the database itself refuses UPDATE and DELETE on the ledger and on terms.

The model layer refuses them on every database (consent.models.ImmutableQuerySet); the
trigger also stops raw SQL and other programs. TRUNCATE stays possible for test databases;
production grants the application role no TRUNCATE privilege (see README).
"""

from django.db import migrations

TABLES = ("consent_consentevent", "consent_consentterms")

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION consent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION consent_refuse_change()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS consent_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_catalogue_terms_ledger")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
