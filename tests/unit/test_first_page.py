"""Which page the browser opened, read from the layout request's Referer (serving/first_page.py)."""

from serving.first_page import Opened, opened_page, query_arguments

HOST = "http://ioc.example:8050/"


def test_a_page_of_our_origin_is_read_with_its_query_string():
    assert opened_page("http://ioc.example:8050/alerts?alert=12&lang=th", HOST) == Opened("/alerts",
                                                                                        "?alert=12&lang=th")
    assert opened_page("http://ioc.example:8050/", HOST) == Opened("/", "")


def test_another_origin_no_referer_or_an_overlong_one_is_left_to_the_router():
    assert opened_page(None, HOST) is None
    assert opened_page("", HOST) is None
    assert opened_page("https://ioc.example:8050/map", HOST) is None  # scheme
    assert opened_page("http://ioc.example:8051/map", HOST) is None  # port
    assert opened_page("http://evil.example/map", HOST) is None
    assert opened_page("http://ioc.example:8050/map?x=" + "a" * 5000, HOST) is None
    assert opened_page("http://[::1/map", HOST) is None  # not a URL urlsplit accepts


def test_the_query_reaches_the_layout_as_the_router_would_pass_it():
    assert query_arguments("?alert=12&kind=a&kind=b&empty=") == {"alert": "12", "kind": ["a", "b"], "empty": ""}
    assert query_arguments("") == {}
