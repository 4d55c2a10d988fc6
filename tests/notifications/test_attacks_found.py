"""Regression tests of an attack on notifications before they landed: each failed on the code as
it was then, and shows one finding (a push endpoint smuggling another host, residents' addresses
on the staff page, a withdrawal during a batch, deep JSON, a title with a line break, a digest
after places stopped being shared, a gateway dripping its answer)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from django.core.exceptions import ValidationError
from django.urls import reverse

from consent.catalogue import PurposeCode
from portal.notices.services import notice_ingest
from portal.notifications import channels
from portal.notifications import delivery as delivery_module
from portal.notifications.delivery import deliveries_send
from portal.notifications.models import Delivery, DeliveryStatus, PushSubscription
from portal.notifications.push import check_push_subscription
from portal.notifications.selectors import delivery_counts
from tests.factories import UserFactory
from tests.helpers import withdraw
from tests.notifications.conftest import resident_in, warning
from tests.notifications.test_push_channel import (  # noqa: F401 - vapid_keys: a fixture
    Browser,
    delivery_for,
    send,
    vapid_keys,
)

pytestmark = pytest.mark.django_db

RUN_UP_TO_SENDING = ("notices.announce_change", "notifications.fan_out")


# ---------------------------------------------------------------------------------------------
# 1. SSRF: a push endpoint that passes the allow-list check but is sent elsewhere
# ---------------------------------------------------------------------------------------------

# urlsplit() sees the host "127.0.0.1\x.push.apple.com" (which ends with the allowed suffix
# ".push.apple.com"); requests/urllib3 treat the backslash as the start of the path and connect
# to 127.0.0.1:443.
SMUGGLED_ENDPOINT = "https://127.0.0.1\\x.push.apple.com/subscription"


def test_a_push_endpoint_smuggling_another_host_behind_a_backslash_is_refused(settings) -> None:
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = False

    with pytest.raises(ValidationError):
        check_push_subscription(Browser.new().subscription(SMUGGLED_ENDPOINT))


@pytest.mark.usefixtures("vapid_keys")
def test_the_push_sender_never_connects_outside_the_push_services(settings, monkeypatch) -> None:
    resident = UserFactory.create()
    subscription = Browser.new().subscription(SMUGGLED_ENDPOINT)
    # As the subscribe view would have saved it: the check lets it through in production (see
    # the test above); the sender checks the endpoint again with endpoint_problem().
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = False
    PushSubscription.objects.create(
        resident=resident,
        endpoint=SMUGGLED_ENDPOINT,
        p256dh=subscription["keys"]["p256dh"],
        auth=subscription["keys"]["auth"],
    )
    contacted: list[str] = []

    def record(self: Any, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        contacted.append(str(requests.utils.urlparse(request.url).hostname or ""))
        response = requests.Response()
        response.status_code = 201
        response.request = request
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", record)

    send(delivery_for(resident))

    assert "127.0.0.1" not in contacted, contacted


# ---------------------------------------------------------------------------------------------
# 2. The staff page shows residents' email addresses ("never who")
# ---------------------------------------------------------------------------------------------


def test_the_staff_counts_never_name_a_refused_residents_address(city, smtp_mailbox, worker_tasks):
    resident = resident_in(city.kitamachi, email="hanako.yamada@example.jp")
    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks(prefixes=RUN_UP_TO_SENDING)
    row = Delivery.objects.get(resident=resident)
    smtp_mailbox.refused.add(resident.email)

    deliveries_send(delivery_ids=[row.pk])

    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED
    counts = delivery_counts(notice_id=row.notice_id or 0)
    assert counts.totals["failed"] == 1  # the failure is shown to staff ...
    assert "hanako.yamada" not in repr(counts)  # ... but not whose it was
    assert "hanako.yamada" not in row.last_error


# ---------------------------------------------------------------------------------------------
# 3. A withdrawal during a batch does not stop the batch's later messages
# ---------------------------------------------------------------------------------------------


def test_a_withdrawal_while_a_batch_is_sending_stops_its_messages_not_yet_sent(
    city, smtp_mailbox, worker_tasks, monkeypatch
) -> None:
    first = resident_in(city.kitamachi)
    second = resident_in(city.kitamachi)
    notice_ingest(version=warning(area_ids=[city.kitamachi.pk]))
    worker_tasks(prefixes=RUN_UP_TO_SENDING)
    ids = list(Delivery.objects.order_by("resident_id").values_list("id", flat=True))
    real_sender_for = channels.sender_for

    class WithdrawingAfterFirst:
        """The real email sender; while the first message goes out (a slow server: a batch
        of 100 may take minutes), the second resident withdraws their consent."""

        def __init__(self, channel: str) -> None:
            self._inner = real_sender_for(channel)
            self._sent = 0

        def __enter__(self) -> WithdrawingAfterFirst:
            self._inner.__enter__()
            return self

        def __exit__(self, *exc: object) -> None:
            self._inner.__exit__(*exc)

        def prepare(self, rows: Any) -> None:
            self._inner.prepare(rows)

        def send(self, row: Delivery, message: Any) -> Any:
            outcome = self._inner.send(row, message)
            self._sent += 1
            if self._sent == 1:
                withdraw(second, purpose=PurposeCode.DISASTER_WARNINGS)
            return outcome

    monkeypatch.setattr(delivery_module, "sender_for", WithdrawingAfterFirst)

    deliveries_send(delivery_ids=ids)

    assert len(smtp_mailbox.to(first.email)) == 1
    assert smtp_mailbox.to(second.email) == [], "sent after the resident withdrew consent"


# ---------------------------------------------------------------------------------------------
# 4. Bad input: a push subscription nested too deep is a server error, not a clear 400
# ---------------------------------------------------------------------------------------------


def test_a_push_subscription_nested_too_deep_is_refused_with_400(client) -> None:
    resident = UserFactory.create()
    client.force_login(resident)
    client.raise_request_exception = False

    response = client.post(
        reverse("notifications:push_subscribe"), data="[" * 4000, content_type="application/json"
    )

    assert response.status_code == 400
    assert not PushSubscription.objects.exists()


# ---------------------------------------------------------------------------------------------
# 5. A feed title with a line break: the warning never reaches anyone by email
# ---------------------------------------------------------------------------------------------


def test_a_warning_whose_title_has_a_line_break_is_still_emailed(
    city, smtp_mailbox, worker_tasks
) -> None:
    resident = resident_in(city.kitamachi)

    notice_ingest(
        version=warning(
            title_ja="会津若松市に大雪警報\nBcc: attacker@example.com",
            area_ids=[city.kitamachi.pk],
        )
    )
    worker_tasks()

    assert smtp_mailbox.to("attacker@example.com") == []
    (message,) = smtp_mailbox.to(resident.email)
    assert "\n" not in message["Subject"]
    assert Delivery.objects.get(resident=resident).status == DeliveryStatus.SENT


# ---------------------------------------------------------------------------------------------
# 6. A digest decided on the resident's places is sent after they stop sharing their places
# ---------------------------------------------------------------------------------------------


def test_a_digest_is_not_sent_with_notices_chosen_by_places_no_longer_shared(
    city, smtp_mailbox, worker_tasks
) -> None:
    from portal.notifications.services import Preferences, preferences_update
    from portal.residents.services import place_add
    from recommendations.services import feeds_rescore
    from tests.helpers import grant
    from tests.mail_sink import text_of
    from tests.notifications.test_digests import MONDAY, notice_for

    resident = UserFactory.create()
    grant(resident, PurposeCode.PERSONALISED_HOME, "places", "language")
    place_add(resident_id=resident.pk, kind="home", area_code=city.kitamachi.code)
    preferences_update(
        resident_id=resident.pk, preferences=Preferences(channels=["email"], digest="daily")
    )
    notice_for(city.kitamachi, "北町の雪まつり")
    feeds_rescore(id_range=(resident.pk, resident.pk), now=MONDAY)
    from portal.notifications.digests import digests_start

    digests_start(now=MONDAY)
    worker_tasks(prefixes=("notifications.digest_range", "notifications.send_digests"))
    assert Delivery.objects.get(resident=resident).status == DeliveryStatus.CREATED

    # The resident stops sharing their places for the home page; they still share a language.
    withdraw(resident, purpose=PurposeCode.PERSONALISED_HOME, category="places")
    # Decided now, the digest would hold nothing: the feed's entry rests on the places.
    from portal.notifications.digests import digest_notices
    from portal.notifications.models import NotificationPreference

    preference = NotificationPreference.objects.get(resident=resident)
    assert digest_notices(preference, now=MONDAY) == []
    worker_tasks()

    sent = smtp_mailbox.to(resident.email)
    assert not any("北町の雪まつり" in text_of(m) for m in sent), (
        "a notice recommended because of the resident's places was sent after they stopped "
        "sharing their places"
    )


# ---------------------------------------------------------------------------------------------
# 7. A resident's gateway that answers a byte at a time holds a worker far past its timeout
#    (and past the lease: the sweep then hands the batch's rows to another worker)
# ---------------------------------------------------------------------------------------------


def test_a_gateway_dripping_its_answer_headers_cannot_hold_a_send_past_its_timeout(
    settings,
) -> None:
    import socket
    import threading
    import time

    from tests.notifications.test_webhook_channel import endpoint_at
    from tests.notifications.test_webhook_channel import send as webhook_send

    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = True
    settings.NOTIFY_HTTP_TIMEOUT = 0.5
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def drip() -> None:
        connection, _address = listener.accept()
        with connection:
            connection.settimeout(5)
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            # One header byte every 0.3 s: each read is within the 0.5 s timeout.
            for byte in b"X-Slow: " + b"a" * 4:
                if stop.is_set():
                    return
                connection.sendall(bytes([byte]))
                time.sleep(0.3)
            connection.sendall(b"\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    resident = UserFactory.create()
    endpoint_at(resident, f"http://127.0.0.1:{port}/hook")

    started = time.monotonic()
    try:
        webhook_send(resident)
    finally:
        stop.set()
        listener.close()
    took = time.monotonic() - started

    # Connect, write and read are each bounded by NOTIFY_HTTP_TIMEOUT; the whole exchange
    # should be bounded by a small multiple of it.
    assert took < 4 * settings.NOTIFY_HTTP_TIMEOUT, f"one send took {took:.1f} s"
