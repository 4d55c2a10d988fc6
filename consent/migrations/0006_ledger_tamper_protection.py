"""On PostgreSQL the database refuses what 0002's triggers left open to the application role.

- TRUNCATE of the events, the terms and the head (``TRUNCATE consent_consentevent CASCADE``
  emptied the ledger, and a reset head made the verifier call the empty ledger intact).
- Any move of the head but one event forward, onto an event chained to the old head; deleting
  it; creating it anywhere but at the genesis of an empty ledger.
- A consent state that is not what its ledger event says: same resident (by pseudonym),
  purpose, category and terms; the status the event's kind leads to; changed when the event
  occurred; expiring when services._record says (a grant under terms valid N days: N days
  later; otherwise never); and no later event of that resident, purpose and category. The
  policy reads these rows, so a forged grant or a removed expiry took effect at once, until
  the next run of consent_verify_ledger (which now also catches both). Deleting a state stays
  possible: an account's deletion removes them, and a missing state only denies.

Flushing a test database. pytest-django empties the database after each transactional test
(transactional_db, live_server, the worker tests) with one TRUNCATE of every table, so a trigger
refusing TRUNCATE outright would break them. A TRUNCATE passes only when both hold:

- the database's name starts with ``test_``, which Django gives every test database and which
  the application role cannot change (renaming a database takes its owner, with nobody
  connected), so a production database never qualifies; and
- the session has set ``consent.allow_test_flush`` to ``on``. tests/conftest.py sets it on every
  test connection; a test that unsets it sees the refusal a production database gives, so the
  trigger is tested for real. Any role can set such a setting, which is why it is not enough
  on its own.

Triggers stop the application role, not the role that owns the tables (it can drop them): the
owner runs the migrations only, and the application role gets no more than SELECT, INSERT,
UPDATE and DELETE (README, "Migration role"). What the owner could still do, the verifier
catches, or the head logged daily outside the database (consent.tasks.log_ledger_head) shows.
"""

from typing import Any

from django.conf import settings
from django.db import migrations

GENESIS_HASH = "0" * 64
LEDGER_TABLES = ("consent_consentevent", "consent_consentterms", "consent_ledgerhead")

REFUSE_TRUNCATE = r"""
CREATE OR REPLACE FUNCTION consent_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF current_database() LIKE 'test\_%'
       AND current_setting('consent.allow_test_flush', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

HEAD_MOVES_FORWARD = f"""
CREATE OR REPLACE FUNCTION consent_head_moves_forward() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT'
       AND NEW.event_count = 0 AND NEW.last_hash = '{GENESIS_HASH}'
       AND NOT EXISTS (SELECT 1 FROM consent_consentevent) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE'
       AND NEW.singleton = OLD.singleton
       AND NEW.event_count = OLD.event_count + 1
       AND EXISTS (
           SELECT 1 FROM consent_consentevent
           WHERE hash = NEW.last_hash AND previous_hash = OLD.last_hash
       ) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the consent ledger head moves one event forward only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def state_follows_ledger(user_table: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION consent_state_follows_ledger() RETURNS trigger AS $$
DECLARE
    event consent_consentevent%ROWTYPE;
    category_code text;
    valid_days integer;
BEGIN
    SELECT * INTO event FROM consent_consentevent WHERE id = NEW.event_id;
    SELECT code INTO category_code FROM consent_datacategory WHERE id = NEW.category_id;
    SELECT consent_consentterms.valid_days INTO valid_days
        FROM consent_consentterms WHERE id = event.terms_id;
    IF event.subject_pseudonym IS DISTINCT FROM
           (SELECT pseudonym FROM {user_table} WHERE id = NEW.resident_id)
       OR event.purpose_code IS DISTINCT FROM
           (SELECT code FROM consent_purpose WHERE id = NEW.purpose_id)
       OR NOT coalesce(event.category_codes ? category_code, false)
       OR NEW.terms_id IS DISTINCT FROM event.terms_id
       -- In brackets: PL/pgSQL would end the IF's condition at a CASE's first THEN.
       OR NEW.status IS DISTINCT FROM (CASE event.kind
           WHEN 'grant' THEN 'granted' WHEN 'refuse' THEN 'refused'
           WHEN 'withdraw' THEN 'withdrawn' WHEN 'expire' THEN 'expired' END)
       OR NEW.changed_at IS DISTINCT FROM event.occurred_at
       -- Hours, not days: a day of a time zone with summer time can last 23 or 25 hours.
       OR NEW.expires_at IS DISTINCT FROM (CASE
           WHEN event.kind = 'grant' AND valid_days > 0
           THEN event.occurred_at + valid_days * interval '24 hours' END)
       OR EXISTS (
           SELECT 1 FROM consent_consentevent later
           WHERE later.subject_pseudonym = event.subject_pseudonym
             AND later.purpose_code = event.purpose_code
             AND later.id > event.id
             AND later.category_codes ? category_code
       ) THEN
        RAISE EXCEPTION
            'a consent state must be what its ledger event says: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def create_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    user_table = apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table
    schema_editor.execute(REFUSE_TRUNCATE, params=None)
    for table in LEDGER_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION consent_refuse_truncate()"
        )
    schema_editor.execute(HEAD_MOVES_FORWARD, params=None)
    schema_editor.execute(
        "CREATE TRIGGER consent_ledgerhead_moves_forward "
        "BEFORE INSERT OR UPDATE OR DELETE ON consent_ledgerhead "
        "FOR EACH ROW EXECUTE FUNCTION consent_head_moves_forward()"
    )
    schema_editor.execute(state_follows_ledger(user_table), params=None)
    schema_editor.execute(
        "CREATE TRIGGER consent_consentstate_follows_ledger "
        "BEFORE INSERT OR UPDATE ON consent_consentstate "
        "FOR EACH ROW EXECUTE FUNCTION consent_state_follows_ledger()"
    )


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS consent_consentstate_follows_ledger ON consent_consentstate"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS consent_state_follows_ledger()")
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS consent_ledgerhead_moves_forward ON consent_ledgerhead"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS consent_head_moves_forward()")
    for table in LEDGER_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS consent_refuse_truncate()")


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0005_data_use_log_counts_uses_per_day"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
