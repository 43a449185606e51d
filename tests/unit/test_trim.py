"""The trim point never passes an entry a consumer group still needs."""

from streams.trim import parse_id, safe_trim_point


def test_no_group_means_keep_everything():
    assert safe_trim_point([]) is None


def test_a_group_with_pending_entries_holds_the_trim_at_its_oldest():
    groups = [{"last_delivered": b"500-3", "oldest_pending": b"120-0"}]
    assert safe_trim_point(groups) == (120, 0)


def test_a_caught_up_group_allows_trimming_everything_delivered():
    assert safe_trim_point([{"last_delivered": "500-3", "oldest_pending": None}]) == (500, 4)


def test_the_slowest_group_wins():
    groups = [{"last_delivered": b"900-0", "oldest_pending": None},
              {"last_delivered": b"300-7", "oldest_pending": None},
              {"last_delivered": b"950-0", "oldest_pending": b"310-0"}]
    assert safe_trim_point(groups) == (300, 8)


def test_ids_parse():
    assert parse_id(b"1764000000000-12") == (1764000000000, 12)
    assert parse_id("0-0") == (0, 0)
