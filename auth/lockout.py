"""Repeated wrong passwords lock an account for a while (pure: the caller stores the counts).

An account is locked after ``max_failures`` wrong passwords in a row, for ``lock_for``; a right password resets
the count. Locking an account, not an address, stops a guesser who spreads attempts over many addresses; the
per-address rate limit (``auth.ratelimit``) stops one address from trying many accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int
    lock_for: timedelta


@dataclass(frozen=True)
class FailureCount:
    """An account's wrong passwords in a row, and until when it is locked."""

    failures: int
    locked_until: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def after_failure(self, policy: LockoutPolicy, now: datetime) -> FailureCount:
        """The count after one more wrong password: at the limit the account locks and the count restarts."""
        failures = (0 if self.locked_until is not None and now >= self.locked_until else self.failures) + 1
        if failures >= policy.max_failures:
            return FailureCount(0, now + policy.lock_for)
        return FailureCount(failures, None)
