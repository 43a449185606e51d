"""The one database retry loop of ingest and alerting: outages are waited out on a new store, nothing else is."""

import pytest

from streams.backoff import Reconnecting


class Outage(Exception):
    pass


class Stores:
    """Numbered stores; each ``run`` action below fails on the stores listed in ``broken``."""

    def __init__(self) -> None:
        self.opened: list[int] = []
        self.closed: list[int] = []
        self.slept: list[float] = []
        self.waited = 0

    def reconnecting(self, max_delay_s: float = 4.0) -> Reconnecting[int]:
        return Reconnecting(self.open, self.closed.append, (Outage,), max_delay_s, "database", self.slept.append)

    def open(self) -> int:
        self.opened.append(len(self.opened) + 1)
        return self.opened[-1]


def test_a_store_is_opened_on_first_use_and_kept():
    stores = Stores()
    db = stores.reconnecting()
    assert db.run(lambda store: store * 10) == 10
    assert db.run(lambda store: store * 10) == 10
    assert stores.opened == [1] and stores.closed == [] and stores.slept == []


def test_an_outage_closes_the_store_waits_and_tries_again_on_a_new_one():
    stores = Stores()
    db = stores.reconnecting()

    def write(store: int) -> str:
        if store < 3:
            raise Outage(f"store {store} gone")
        return f"written on {store}"

    def keep_fresh() -> None:
        stores.waited += 1

    assert db.run(write, keep_fresh) == "written on 3"
    assert stores.closed == [1, 2] and stores.waited == 2
    assert len(stores.slept) == 2 and all(0 < pause <= 4.0 for pause in stores.slept)


def test_failing_to_connect_is_an_outage_too():
    stores, attempts = Stores(), iter([Outage("refused"), Outage("refused"), None])

    def open_store() -> int:
        if (refused := next(attempts)) is not None:
            raise refused
        return 7

    db = Reconnecting(open_store, stores.closed.append, (Outage,), 4.0, "database", stores.slept.append)
    assert db.run(lambda store: store) == 7
    assert stores.closed == [] and len(stores.slept) == 2


def test_the_pauses_never_exceed_the_longest_back_off():
    stores, failures = Stores(), iter(range(12))
    db = stores.reconnecting(max_delay_s=1.0)

    def flaky(store: int) -> int:
        if next(failures, None) is not None:
            raise Outage("down")
        return store

    db.run(flaky)
    assert len(stores.slept) == 12 and max(stores.slept) <= 1.0


def test_an_error_that_is_not_an_outage_is_raised_and_the_store_kept():
    stores = Stores()
    db = stores.reconnecting()
    with pytest.raises(ZeroDivisionError):
        db.run(lambda store: store / 0)
    assert stores.closed == [] and db.store == 1


def test_close_closes_the_open_store_once():
    stores = Stores()
    db = stores.reconnecting()
    db.run(lambda store: store)
    db.close()
    db.close()
    assert stores.closed == [1] and db.store is None
