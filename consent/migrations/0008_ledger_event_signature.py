"""Sign every consent ledger event with a key the database does not hold (security finding F4).

The hash chain is unkeyed: whoever can write the database can rewrite an event and recompute
every later hash, and the verifier called the result intact. Each event now carries the
HMAC-SHA256 of its chain hash under settings.LEDGER_SIGNING_KEY (consent/signing.py), and this
migration signs the events already there, with the same functions append_event uses. So the
role that runs it needs the same LEDGER_SIGNING_KEY as the site; without it the events are
signed with the key derived from SECRET_KEY (consent.signing.derived_signing_key), which the
site then needs in LEDGER_SIGNING_KEY_FALLBACKS.

Each event is signed as its own content says: its chain hash is recomputed from its columns,
not read from its ``hash``. An event already changed keeps failing its hash check, as before;
signing it does not hide that.

On PostgreSQL the append-only trigger (0002) refused every UPDATE of an event. It now lets
one through when it only fills in an empty signature with 64 hex digits and changes nothing
else: this migration's own update, once per event. DELETE, any other UPDATE, and a signature
changed once set stay refused; TRUNCATE keeps its own trigger (0006). Letting the application
role do the same is harmless: a signature is worth something only when made with the key, and
an event's content still cannot change. (Production revokes UPDATE on the ledger from that
role anyway: README, "Migration role".)
"""

from typing import Any

from django.db import migrations, models

from consent.ledger import chain_hash, event_payload
from consent.signing import current_signing_key, event_signature

BATCH_SIZE = 2000

EVENTS_SIGNED_ONCE = r"""
CREATE OR REPLACE FUNCTION consent_event_signed_once() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.signature = ''
       AND NEW.signature ~ '^[0-9a-f]{64}$'
       AND to_jsonb(NEW) - 'signature' = to_jsonb(OLD) - 'signature' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _replace_events_trigger(schema_editor: Any, function: str) -> None:
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS consent_consentevent_append_only ON consent_consentevent"
    )
    schema_editor.execute(
        "CREATE TRIGGER consent_consentevent_append_only "
        "BEFORE UPDATE OR DELETE ON consent_consentevent "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()"
    )


def allow_signing_once(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(EVENTS_SIGNED_ONCE, params=None)
    _replace_events_trigger(schema_editor, "consent_event_signed_once")


def refuse_every_change(apps: Any, schema_editor: Any) -> None:
    """Back to 0002's trigger, which 0002's function (still serving the terms) answers."""
    if schema_editor.connection.vendor != "postgresql":
        return
    _replace_events_trigger(schema_editor, "consent_refuse_change")
    schema_editor.execute("DROP FUNCTION IF EXISTS consent_event_signed_once()")


def sign_existing_events(apps: Any, schema_editor: Any) -> None:
    """Sign the unsigned events, a batch at a time, so memory stays flat at any ledger size."""
    event_model = apps.get_model("consent", "ConsentEvent")
    terms_hashes = dict(
        apps.get_model("consent", "ConsentTerms").objects.values_list("pk", "content_hash")
    )
    key = current_signing_key()
    unsigned = event_model.objects.filter(signature="").order_by("pk")
    last_id = 0
    while batch := list(unsigned.filter(pk__gt=last_id)[:BATCH_SIZE]):
        for event in batch:
            payload = event_payload(event, terms_hash=terms_hashes[event.terms_id])
            event.signature = event_signature(chain_hash(event.previous_hash, payload), key=key)
        event_model.objects.bulk_update(batch, ["signature"])
        last_id = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("consent", "0007_paper_form_register")]

    operations = [
        migrations.AddField(
            model_name="consentevent",
            name="signature",
            field=models.CharField(blank=True, max_length=64, verbose_name="signature"),
        ),
        migrations.RunPython(allow_signing_once, refuse_every_change),
        migrations.RunPython(sign_existing_events, migrations.RunPython.noop),
    ]
