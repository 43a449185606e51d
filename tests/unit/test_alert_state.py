"""Lifecycle transitions, silences, the retry schedule and webhook signatures: the pure parts of notifying."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from alerts import webhooks
from alerts.retry import RetryPolicy, ceiling, decide
from alerts.state import Action, InvalidTransition, Status, next_status, notifies, silence_matches
from settings import WebhookReceiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)


def test_transitions():
    assert next_status("firing", "acknowledged") == Status.ACKNOWLEDGED
    assert next_status("firing", "resolved") == next_status("acknowledged", "resolved") == Status.RESOLVED
    assert next_status("resolved", "note") == Status.RESOLVED and next_status("firing", "assigned") == Status.FIRING
    for current, action in [("resolved", "acknowledged"), ("resolved", "resolved"), ("acknowledged", "acknowledged"),
                            ("firing", "fired")]:  # fmt: skip
        with pytest.raises(InvalidTransition, match=f"cannot mark a {current} alert"):
            next_status(current, action)


def test_silences_and_notifications():
    labels = {"rule": "pm25_high", "severity": "critical", "subject": "futian", "team": "env"}
    assert silence_matches({"team": "env"}, labels) and silence_matches({"team": "env", "subject": "futian"}, labels)
    assert not silence_matches({"team": "env", "subject": "nanshan"}, labels) and not silence_matches({}, labels)
    assert notifies(Action.FIRED, False, False) and not notifies(Action.NOTE, False, False)
    assert not notifies(Action.RESOLVED, True, False) and not notifies(Action.ACKNOWLEDGED, False, True)


def test_full_jitter_backoff_stays_under_a_doubling_capped_ceiling():
    policy = RetryPolicy(base_s=5, max_delay_s=3600, give_up_after_s=86_400)
    assert [ceiling(policy, n) for n in range(1, 12)] == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]
    rng = random.Random(7)
    pauses = [decide(policy, status=500, retry_after=None, attempts=n, age_s=0, now=NOW, rng=rng).retry_in_s
              for n in range(1, 30)]  # fmt: skip
    assert all(0 <= p <= ceiling(policy, n) for n, p in zip(range(1, 30), pauses, strict=True))
    assert len({round(p, 3) for p in pauses}) == len(pauses)  # jittered, not a fixed schedule


def test_outcomes():
    policy = RetryPolicy(base_s=5, max_delay_s=3600, give_up_after_s=3000)
    rng = random.Random(1)
    assert decide(policy, status=204, retry_after=None, attempts=1, age_s=0, now=NOW, rng=rng).delivered
    gone = decide(policy, status=410, retry_after=None, attempts=1, age_s=0, now=NOW, rng=rng)
    assert (gone.delivered, gone.retry_in_s) == (False, None)
    limited = decide(policy, status=429, retry_after="120", attempts=1, age_s=0, now=NOW, rng=rng)
    assert limited.retry_in_s == 120
    huge = decide(policy, status=503, retry_after="999999", attempts=1, age_s=0, now=NOW, rng=rng)
    assert huge.retry_in_s is None  # capped at an hour, which is past the give-up time: dead letter
    late = decide(policy, status=None, retry_after=None, attempts=9, age_s=2999, now=NOW, rng=rng)
    assert late.retry_in_s is None and "gave up after 9 attempts" in late.reason
    assert decide(policy, status=302, retry_after=None, attempts=1, age_s=0, now=NOW, rng=rng).retry_in_s is not None


def test_our_signature_verifies_with_the_reference_library_and_theirs_matches_ours():
    body = webhooks.body("alert.firing", {"id": 7, "summary": "PM2.5 in 福田 is 180 µg/m³"}, {"action": "fired"},
                         "https://ioc.example.org/alerts/7", NOW)  # fmt: skip
    timestamp = int(datetime.now(UTC).timestamp())
    headers = webhooks.headers(webhooks.signing_key(SECRET), "msg_1", timestamp, body.encode())
    assert Webhook(SECRET).verify(body.encode(), headers)["data"]["alert"]["summary"].endswith("µg/m³")
    theirs = Webhook(SECRET).sign("msg_1", datetime.fromtimestamp(timestamp, UTC), body)
    assert headers["webhook-signature"] == theirs


def test_allow_list():
    allowed = ("hooks.example.org", "*.city.gov.cn")
    assert webhooks.host_allowed("https://hooks.example.org/x", allowed)
    assert webhooks.host_allowed("https://ops.sz.city.gov.cn:8443/x", allowed)
    assert not webhooks.host_allowed("https://city.gov.cn/x", allowed)
    assert not webhooks.host_allowed("https://hooks.example.org.evil.com/x", allowed)
    assert not webhooks.host_allowed("ftp://hooks.example.org/x", allowed)
    bad = WebhookReceiver(name="ops", url="https://169.254.169.254/latest", secret=SECRET)
    with pytest.raises(webhooks.ReceiverRefused, match="receiver 'ops': host '169.254.169.254' is not on the allow"):
        webhooks.check_receivers([bad], allowed)


def test_receiver_secrets_are_checked_and_never_shown():
    from pydantic import ValidationError

    for secret, why in [("abc", "starts with 'whsec_'"), ("whsec_%%%", "not base64"), ("whsec_QUJD", "24-64 bytes")]:
        with pytest.raises(ValidationError, match=why) as caught:
            WebhookReceiver(name="ops", url="https://x.org", secret=secret)
        assert secret not in str(caught.value)
    assert "MfKQ9r8" not in repr(WebhookReceiver(name="ops", url="https://x.org", secret=SECRET))


def test_receivers_come_from_json_and_an_empty_value_means_none(monkeypatch):
    from settings import Settings

    monkeypatch.setenv("IOC_ALERT_RECEIVERS", "")
    assert Settings().alert_receivers == ()
    monkeypatch.setenv("IOC_ALERT_RECEIVERS", f'[{{"name": "ops", "url": "https://x.org/h", "secret": "{SECRET}"}}]')
    assert Settings().alert_receivers[0].name == "ops"
