"""Judges whose verdicts come from time passing: silence (no data) and complaints open past their SLA (pure)."""

from __future__ import annotations

from typing import Any

from alerts.judges import Change, RuleJudge, beyond, subject_of


class NoDataJudge(RuleJudge):
    """Silent for longer than `silent_for`: per device or site, or for the whole stream.

    Silence is measured on the evaluator's clock (when records *arrive*), since "nothing ingested" is about
    the feed, not about the timestamps producers write. A device or site is known once it is heard, or when a
    new leader learns from the store that it was heard within `silent_for` before the start (``heard``).
    """

    def __init__(self, rule: Any, started: float) -> None:
        super().__init__(rule)
        # The whole stream counts as heard at start, so a feed that never speaks alerts after `silent_for`.
        self.last_seen: dict[str, float] = {rule.source: started} if rule.subject == "stream" else {}

    def _subject(self, record: Any) -> str:
        return self.rule.source if self.rule.subject == "stream" else subject_of(self.rule, record)

    def observe(self, record: Any, ts: float, now: float) -> Change | None:
        subject = self._subject(record)
        if subject not in self.last_seen and not self.admit_new(now):
            return None
        self.last_seen[subject] = now
        if subject in self.holds:
            return self.judge(subject, False, 0.0, now)
        return None

    def tick(self, now: float) -> list[Change]:
        changes = []
        limit = self.rule.silent_for_s
        for subject, seen in self.last_seen.items():
            silent = now - seen
            if silent > limit or subject in self.holds:
                change = self.judge(subject, silent > limit, silent, now)
                if change is not None:
                    changes.append(change)
        return changes

    def assume_firing(self, subject: str, now: float) -> None:
        super().assume_firing(subject, now)
        self.last_seen.setdefault(subject, now - self.rule.silent_for_s)

    def forget(self, before: float) -> int:
        """Devices or sites not heard since ``before`` (by the evaluator's clock): no longer missed.

        The stream itself is never forgotten: a silent feed is what a stream rule is for."""
        if self.rule.subject == "stream":
            return 0
        return self._drop([s for s, seen in self.last_seen.items() if seen < before], self.last_seen)

    def heard(self, subject: str, at: float) -> None:
        """``subject`` was last heard ``at`` (from the store, before this evaluator started)."""
        self.last_seen[subject] = max(at, self.last_seen.get(subject, at))


class OpenPastSlaJudge(RuleJudge):
    """Requests open (or in progress) for longer than `sla`, counted for the city or per district."""

    def __init__(self, rule: Any) -> None:
        super().__init__(rule)
        self.open: dict[str, tuple[float, str]] = {}  # request id → (opened at, subject)

    def observe(self, record: Any, ts: float, now: float) -> Change | None:
        if record.status == "closed":
            self.open.pop(record.request_id, None)
        elif record.request_id in self.open or self.admit_new(now):
            self.seed(record.request_id, ts, record.district)
        return None  # counts change with time too, so they are judged on the clock tick

    def seed(self, request_id: str, opened_at: float, district: str) -> None:
        """A request known to be open (from the store at start, or from its first event)."""
        subject = "city" if self.rule.subject == "city" else district
        known = self.open.get(request_id)
        self.open[request_id] = (min(opened_at, known[0]) if known else opened_at, subject)

    def counts(self, now: float) -> dict[str, int]:
        """Requests past the SLA per subject."""
        counts: dict[str, int] = {}
        deadline = now - self.rule.sla_s
        for opened_at, subject in self.open.values():
            if opened_at < deadline:
                counts[subject] = counts.get(subject, 0) + 1
        return counts

    def tick(self, now: float) -> list[Change]:
        counts = self.counts(now)
        if self.rule.subject == "city":
            counts.setdefault("city", 0)
        changes = []
        for subject in set(counts) | set(self.holds):
            count = float(counts.get(subject, 0))
            change = self.judge(subject, beyond(self.rule.op, count, self.limit(subject)), count, now)
            if change is not None:
                changes.append(change)
        return changes
