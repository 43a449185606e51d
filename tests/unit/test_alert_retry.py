"""Retry-After as a receiver may write it: strictly delta-seconds or an HTTP-date, clamped; anything else ignored."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from hypothesis import example, given
from hypothesis import strategies as st

from alerts.retry import RetryPolicy, ceiling, decide, retry_after_s

NOW = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
FLOOR, CEILING = 5.0, 3600.0


def parse(header: str | None) -> float | None:
    return retry_after_s(header, NOW, FLOOR, CEILING)


def test_delta_seconds_and_the_three_http_date_forms():
    assert parse("30") == 30 and parse(" 30\t") == 30
    assert parse("Tue, 24 Nov 2026 08:31:00 GMT") == 60  # IMF-fixdate
    assert parse("Tuesday, 24-Nov-26 08:31:00 GMT") == 60  # rfc850-date
    assert parse("Tue Nov 24 08:31:00 2026") == 60  # asctime-date


def test_too_soon_gets_the_floor_and_too_late_the_ceiling():
    assert parse("0") == FLOOR and parse("Tue, 24 Nov 2026 08:29:00 GMT") == FLOOR
    assert parse("86400") == CEILING and parse("Thu, 24 Nov 2031 08:30:00 GMT") == CEILING
    assert parse("9" * 5000) == CEILING  # int() would refuse so many digits


def test_anything_else_is_ignored():
    not_digits = ["²", "１２", "٣", "3.5", "-5", "+5", "5s", "0x10", "soon", "", " ", None]
    no_such_time = ["Tue, 31 Feb 2026 08:31:00 GMT", "Tue, 24 Nov 2026 25:31:00 GMT"]
    not_http_dates = ["24 Nov 2026 08:31:00 +0200", "Tue, 24 Nov 2026 08:31:00 -0000", "tue, 24 nov 2026 08:31:00 gmt"]
    for header in not_digits + no_such_time + not_http_dates:
        assert parse(header) is None, header


http_dates = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31)).map(
    lambda d: format_datetime(d.replace(tzinfo=UTC), usegmt=True)
)


@given(header=st.one_of(st.text(), st.integers().map(str), http_dates, st.from_regex(r"\A[0-9²³¹٠-٩ ]{0,8}\Z")),
       bounds=st.tuples(st.floats(0, 1e6), st.floats(0, 1e6)).map(sorted))  # fmt: skip
@example(header="²", bounds=[FLOOR, CEILING])
@example(header="0", bounds=[FLOOR, CEILING])
@example(header="Tue Nov 24 08:31:00 2026", bounds=[FLOOR, CEILING])
def test_any_header_gives_a_delay_in_bounds_or_none_and_never_raises(header, bounds):
    floor_s, ceiling_s = bounds
    delay = retry_after_s(header, NOW, floor_s, ceiling_s)
    assert delay is None or floor_s <= delay <= ceiling_s


def test_a_503_asking_for_no_wait_waits_the_base_and_a_bad_header_falls_back_to_the_back_off():
    policy = RetryPolicy(base_s=5, max_delay_s=3600, give_up_after_s=86_400)
    rng = random.Random(3)
    now_please = decide(policy, status=503, retry_after="0", attempts=1, age_s=0, now=NOW, rng=rng)
    assert now_please.retry_in_s == policy.base_s
    for attempts in range(1, 12):
        odd = decide(policy, status=503, retry_after="²", attempts=attempts, age_s=0, now=NOW, rng=rng)
        assert odd.retry_in_s is not None and 0 <= odd.retry_in_s <= ceiling(policy, attempts)
    later = decide(policy, status=429, retry_after=format_datetime(NOW + timedelta(minutes=2), usegmt=True),
                   attempts=1, age_s=0, now=NOW, rng=rng)  # fmt: skip
    assert later.retry_in_s == 120
