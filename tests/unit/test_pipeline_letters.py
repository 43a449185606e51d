"""The pipeline page's letter inspector, without services: a letter as bounded plain text, and a complaint's
words withheld from those who may not read them."""

from __future__ import annotations

from layouts.pipeline import WITHHELD, letter_text
from streams.deadletter import dead_letter, read_letter

FIRST = b"1764000000000-0"


def test_a_complaints_letter_withholds_the_citizens_words_from_those_who_may_not_read_them():
    words = b"my neighbour Li Wei at no. 5 is loud"
    raw = dead_letter({b"request_id": b"SZ-1", b"description": words, b"phone": b"138"}, stream="city:complaints",
                      entry_id=FIRST, code="missing", reason="missing field 'status'", at_ms=1)  # fmt: skip
    letter = read_letter(b"5-0", raw)
    public = {b"request_id", b"status"}
    text = letter_text(letter, None, public)
    assert "SZ-1" in text and words.decode() not in text and "138" not in text and text.count(WITHHELD) == 2
    assert words.decode() in letter_text(letter, None, None)
    huge = read_letter(
        b"6-0",
        dead_letter(
            {f"f{i}".encode(): b"<b>x</b>" * 12 for i in range(150)},
            stream="city:iot",
            entry_id=FIRST,
            code="too_large",
            reason="r",
            at_ms=1,
        ),
    )
    shown_text = letter_text(huge, None, None)
    assert "… and 50 more fields" in shown_text and "<b>x</b>" in shown_text  # text, for a <pre>: never markup
