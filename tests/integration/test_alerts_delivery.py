"""Webhook delivery against real HTTP receivers on 127.0.0.1: signatures, retries, Retry-After, dead letters,
at-least-once delivery across a sender killed mid-request (a real process, SIGKILL), and receivers that answer
badly or never, beside a good one."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

import bootstrap
from alerts import console
from alerts.evaluate import Condition
from alerts.webhooks import ReceiverRefused
from tests.integration.alerting import SECRET, Receiver, Stalling, start_alerts, with_receivers
from tests.integration.conftest import count, wait_until

pytestmark = pytest.mark.integration
FAST = {"alert_retry_base_s": 0.2, "alert_retry_max_delay_s": 0.5, "alert_retry_for_s": 600.0}


def cond(subject: str, firing: bool = True) -> Condition:
    return Condition("pm25_high", subject, firing, 180.0, 150.0, "critical", f"PM2.5 in {subject}", {},
                     datetime.now(UTC))  # fmt: skip


def queue(settings, *conditions: Condition) -> None:
    conn = bootstrap.db_connection(settings)
    bootstrap.alert_store(settings, conn).apply(list(conditions))
    conn.close()


@pytest.fixture
def run_sender():
    """Start in-process senders for given settings; all are stopped at the end of the test."""
    stop = threading.Event()
    threads = []

    def start(settings):
        sender = bootstrap.alert_sender(settings)
        thread = threading.Thread(target=sender.run, args=(stop.is_set,), daemon=True)
        thread.start()
        threads.append(thread)
        return sender

    yield start
    stop.set()
    for thread in threads:
        thread.join(10)


def test_signatures_verify_with_the_reference_library(test_settings, receiver, run_sender, db):
    settings = with_receivers(test_settings, receiver)
    run_sender(settings)
    queue(settings, cond("futian"))
    (delivery,) = wait_until(lambda: receiver.deliveries, what="a webhook")
    payload = Webhook(SECRET).verify(delivery.body, delivery.headers)  # raises unless the signature is right
    alert_id = count(db, "SELECT id FROM alerts")
    assert payload["type"] == "alert.firing" and payload["data"]["alert"]["id"] == alert_id
    assert payload["data"]["link"].endswith(f"/alerts/{alert_id}")
    assert payload["data"]["change"]["action"] == "fired"
    assert delivery.message_id.startswith("msg_") and "." not in delivery.message_id
    with pytest.raises(Exception, match="No matching signature"):
        Webhook("whsec_" + "QUJD" * 8).verify(delivery.body, delivery.headers)
    wait_until(lambda: count(db, "SELECT count(*) FROM alert_outbox WHERE status = 'delivered'") == 1)


def test_a_receiver_down_for_a_while_gets_every_message_with_its_original_id(test_settings, receiver, run_sender, db):
    settings = with_receivers(test_settings, receiver, **FAST)
    port = receiver.port
    receiver.stop()  # connection refused from now on
    run_sender(settings)
    queue(settings, *(cond(f"district-{i}") for i in range(5)))
    wait_until(lambda: count(db, "SELECT min(attempts) FROM alert_outbox") >= 3, what="several failed attempts")
    queued_ids = {row[0] for row in db.execute("SELECT message_id FROM alert_outbox")}
    back = Receiver(port=port).start()
    try:
        wait_until(lambda: count(db, "SELECT count(*) FROM alert_outbox WHERE status = 'delivered'") == 5,
                   what="all five delivered")  # fmt: skip
        assert set(back.ids()) == queued_ids and len(back.ids()) == 5
        for delivery in back.deliveries:
            Webhook(SECRET).verify(delivery.body, delivery.headers)
    finally:
        back.stop()


def test_429_with_retry_after_is_honoured(test_settings, receiver, run_sender, db):
    receiver.respond = lambda d: (429, {"Retry-After": "3600"})
    # Back-off alone would retry within 0.05 s; the receiver asks for an hour, within the two-hour longest pause.
    settings = with_receivers(test_settings, receiver, alert_retry_base_s=0.05, alert_retry_max_delay_s=7200.0)
    run_sender(settings)
    queue(settings, cond("futian"))
    an_hour_away = "SELECT count(*) FROM alert_outbox WHERE attempts = 1 AND next_attempt_at > now() + '50 min'"
    wait_until(lambda: count(db, an_hour_away) == 1, what="the next attempt an hour away")
    assert len(receiver.deliveries) == 1


def test_retries_give_up_into_the_dead_letters_and_410_is_final(test_settings, receiver, run_sender, db):
    receiver.respond = lambda d: (500, {}) if d.json["data"]["alert"]["subject"] == "futian" else (410, {})
    settings = with_receivers(test_settings, receiver, **{**FAST, "alert_retry_for_s": 1.5})
    run_sender(settings)
    queue(settings, cond("futian"), cond("nanshan"))
    wait_until(lambda: len(console.dead_letters(db)) == 2, timeout=15, what="two dead letters")
    dead = {d["last_status"]: d for d in console.dead_letters(db)}
    assert dead[500]["attempts"] > 1 and "gave up" in dead[500]["last_error"]
    assert dead[410]["attempts"] == 1 and "410 Gone" in dead[410]["last_error"]
    # Dead letters are rows the sender never claims again: nothing left that it could still send.
    assert count(db, "SELECT count(*) FROM alert_outbox WHERE status = 'pending'") == 0


def test_a_receiver_off_the_allow_list_is_refused(test_settings, receiver):
    settings = with_receivers(test_settings, receiver).model_copy(
        update={"alert_webhook_allowed_hosts": ("hooks.example.org",)})
    with pytest.raises(ReceiverRefused, match="receiver 'r0': host '127.0.0.1' is not on the allow-list"):
        bootstrap.alert_sender(settings)
    proc = start_alerts(settings, "--no-evaluate")
    assert proc.wait(30) == 2


def test_a_sender_killed_mid_delivery_resends_on_restart(test_settings, receiver, db, tmp_path):
    release = threading.Event()

    def hold_the_first(delivery):
        if len(receiver.deliveries) == 1:
            release.wait(30)  # the sender is killed while it waits for this answer
        return 200, {}

    receiver.respond = hold_the_first
    # The killed sender's lease runs for the deadline (5 s) plus a margin; then the message is due again.
    settings = with_receivers(test_settings, receiver, **FAST, alert_webhook_timeout_s=5.0)
    queue(settings, cond("futian"))
    first = start_alerts(settings, "--no-evaluate", log=tmp_path / "first.log")
    try:
        wait_until(lambda: receiver.deliveries, what="the first delivery attempt")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        release.set()
    assert count(db, "SELECT count(*) FROM alert_outbox WHERE status = 'pending'") == 1
    second = start_alerts(settings, "--no-evaluate", log=tmp_path / "second.log")
    try:
        wait_until(lambda: len(receiver.deliveries) == 2, timeout=90, what="the resend once the lease ran out")
        wait_until(lambda: count(db, "SELECT count(*) FROM alert_outbox WHERE status = 'delivered'") == 1)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
    assert receiver.deliveries[0].message_id == receiver.deliveries[1].message_id
    assert count(db, "SELECT attempts FROM alert_outbox") == 1  # the killed attempt never committed


def outbox(db, receiver: str) -> list[tuple]:
    """(message_id, status, attempts, last_status, last_error) of one receiver's messages."""
    return db.execute("SELECT message_id, status, attempts, last_status, last_error FROM alert_outbox"
                      " WHERE receiver = %s ORDER BY id", (receiver,)).fetchall()  # fmt: skip


def test_hostile_receivers_cannot_stop_deliveries_to_a_good_one(test_settings, receiver, run_sender, db):
    superscript = Receiver(respond=lambda d: (503, {"Retry-After": "²"})).start()  # '²'.isdigit() is True
    zero = Receiver(respond=lambda d: (503, {"Retry-After": "0"})).start()
    silent = Stalling().start()  # accepts the connection, never answers
    hostile = {**FAST, "alert_retry_for_s": 6.0, "alert_webhook_timeout_s": 1.0, "alert_sender_threads": 4,
               "alert_sender_per_receiver": 1}  # fmt: skip
    settings = with_receivers(test_settings, receiver, superscript, zero, silent, **hostile)
    try:
        sender = run_sender(settings)
        queue(settings, *(cond(f"district-{i}") for i in range(6)))
        good = {row[0] for row in outbox(db, "r0")}
        wait_until(lambda: set(receiver.ids()) >= good, what="every message at the good receiver")
        wait_until(lambda: all(status == "delivered" for _, status, *_ in outbox(db, "r0")), what="recorded")
        assert set(receiver.ids()) == good and len(good) == 6  # each with the webhook-id it was queued with
        wait_until(lambda: count(db, "SELECT count(*) FROM alert_outbox WHERE status = 'dead'") == 18,
                   timeout=60, what="the hostile receivers' messages dead-lettered")  # fmt: skip
        for name in ("r1", "r2"):  # 503s: retried by the policy (the first retry is due 0.2 s on), then given up
            for _, _, attempts, last_status, last_error in outbox(db, name):
                assert attempts >= 2 and last_status == 503 and "gave up" in last_error, (name, last_error)
        # "Retry-After: 0" waits the base (0.2 s) each time, so the 6 s give-up admits 6 / 0.2 + 1 attempts at
        # most, however fast or slow the machine; honoured as 0 it would be a tight loop of hundreds.
        assert max(attempts for _, _, attempts, *_ in outbox(db, "r2")) <= 31
        for _, _, attempts, last_status, last_error in outbox(db, "r3"):
            assert attempts >= 1 and last_status is None and "DeadlinePassed" in last_error, last_error
        assert sender.delivering() == 4  # no thread died of a reply
    finally:
        for server in (superscript, zero, silent):
            server.stop()


def test_a_receiver_that_never_answers_takes_only_its_share_of_the_threads(test_settings, receiver, run_sender, db):
    silent = Stalling().start()
    # The deadline is far away, so only the per-receiver cap can leave a thread for the good receiver.
    settings = with_receivers(test_settings, silent, receiver, **FAST, alert_webhook_timeout_s=600.0,
                              alert_sender_threads=2, alert_sender_per_receiver=1)  # fmt: skip
    try:
        queue(with_receivers(test_settings, silent), *(cond(f"early-{i}") for i in range(3)))  # first in line
        queue(settings, *(cond(f"district-{i}") for i in range(3)))
        run_sender(settings)
        good = {row[0] for row in outbox(db, "r1")}
        wait_until(lambda: set(receiver.ids()) == good, what="every message at the good receiver")
        wait_until(lambda: silent.connections, what="a delivery waiting on the silent receiver")
        # That delivery holds no row lock (a lock held elsewhere fails this at once) but a lease on its message.
        with db.transaction():
            db.execute("SET LOCAL lock_timeout = '1ms'")
            assert len(db.execute("SELECT id FROM alert_outbox WHERE receiver = 'r0' FOR UPDATE").fetchall()) == 6
        leased = count(db, "SELECT count(*) FROM alert_outbox WHERE receiver = 'r0' AND attempts = 0"
                           " AND next_attempt_at > now() + interval '300 seconds'")  # fmt: skip
        assert leased == 1  # one at a time: the others wait for the receiver's one slot
    finally:
        silent.stop()


def test_a_receiver_answering_a_byte_at_a_time_is_cut_off_at_the_deadline(test_settings, run_sender, db):
    trickle = Stalling(trickle=0.05).start()  # every read gets a byte well within any socket timeout
    settings = with_receivers(test_settings, trickle, **FAST, alert_webhook_timeout_s=1.0)
    try:
        run_sender(settings)
        queue(settings, cond("futian"))
        wait_until(lambda: count(db, "SELECT attempts FROM alert_outbox") >= 2, what="a second attempt")
        [(_, status, _, last_status, last_error)] = outbox(db, "r0")
        assert status == "pending" and last_status is None and "within 1 s" in last_error, last_error
    finally:
        trickle.stop()


def test_a_sender_whose_lease_ran_out_does_not_overwrite_the_next_claim(test_settings, receiver, run_sender, db,
                                                                         caplog):  # fmt: skip
    release = threading.Event()
    receiver.respond = lambda d: (release.wait(30), (204, {}))[1]
    run_sender(with_receivers(test_settings, receiver, **FAST, alert_sender_threads=1))
    queue(with_receivers(test_settings, receiver), cond("futian"))
    wait_until(lambda: receiver.deliveries, what="the delivery in flight")
    # What another sender does once this one's lease has run out: claim the message for itself.
    db.execute("UPDATE alert_outbox SET next_attempt_at = now() + interval '1 hour'")
    release.set()
    wait_until(lambda: "the lease ran out" in caplog.text, what="the late outcome refused")
    [(_, status, attempts, last_status, _)] = outbox(db, "r0")
    assert (status, attempts, last_status) == ("pending", 0, None)  # the new claim's to record


def test_a_socket_timeout_before_the_deadline_timer_fires_is_the_deadline_passing(monkeypatch):
    # On a busy machine the timer's thread can be late, and the socket's own timeout (the same length) ends the
    # read first; the failure is the same one and must be recorded as such.
    from alerts import http_post

    monkeypatch.setattr(http_post._Deadline, "_cut", lambda self: None)  # the timer never gets to cut
    silent = Stalling().start()
    try:
        with pytest.raises(http_post.DeadlinePassed, match="within 0.3 s"):
            http_post.post(f"http://127.0.0.1:{silent.port}/hook", {}, b"{}", deadline_s=0.3)
    finally:
        silent.stop()
