"""Politeness and safety middlewares, built with Scrapy's get_crawler and called directly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from scrapy import Spider
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawlers import settings as project_settings
from crawlers.middlewares import (
    BackoffRetryMiddleware,
    BudgetExhausted,
    ContactUserAgentMiddleware,
    PageBudgetMiddleware,
    TrapGuardMiddleware,
    TrapRequest,
    failure_kind,
    retry_after_seconds,
    url_date,
)

PROJECT = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}


def crawler(**overrides):
    c = get_crawler(Spider, {**PROJECT, **overrides})
    c.spider = Spider("t")
    return c


def test_user_agent_names_the_contact_from_settings():
    mw = ContactUserAgentMiddleware.from_crawler(crawler(WILDWATCH_CONTACT="ops@example.org"))
    request = Request("http://127.0.0.1/")
    mw.process_request(request)
    assert request.headers[b"User-Agent"] == b"Wildwatch/0.1 (+ops@example.org; wildlife-trade research crawler)"
    with pytest.raises(NotConfigured):
        ContactUserAgentMiddleware.from_crawler(crawler(WILDWATCH_USER_AGENT=""))


def test_page_budget_counts_every_fetch_but_robots_txt():
    c = crawler(WILDWATCH_MAX_PAGES=3)
    mw = PageBudgetMiddleware.from_crawler(c)
    mw.process_request(Request("http://h/robots.txt"))
    for i in range(3):
        mw.process_request(Request(f"http://h/p{i}"))
    with pytest.raises(BudgetExhausted):
        mw.process_request(Request("http://h/p3"))
    assert c.stats.get_value("wildwatch/budget/exhausted") is True
    assert c.stats.get_value("wildwatch/budget/fetched") == 3
    assert failure_kind(Failure(BudgetExhausted("x"))) is None  # not the site's fault


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://h/shop/a/a/a/a/", "repeating_path"),
        ("http://h/" + "x/" * 20, "repeating_path"),
        ("http://h/?q=" + "a" * 2100, "url_too_long"),
        ("http://h/calendar?month=2031-01", "calendar"),
        ("http://h/archive/1999/01/", "calendar"),
    ],
)
def test_trap_guard_refuses_traps(url, kind):
    c = crawler()
    mw = TrapGuardMiddleware.from_crawler(c)
    with pytest.raises(TrapRequest) as info:
        mw.process_request(Request(url))
    assert info.value.kind == kind
    assert c.stats.get_value(f"wildwatch/traps/{kind}") == 1


def test_trap_guard_caps_the_dates_of_one_calendar_and_lets_normal_urls_through():
    mw = TrapGuardMiddleware.from_crawler(crawler(WILDWATCH_TRAP_MAX_DATES=3))
    today = datetime.now(timezone.utc).date()
    months = [(today.replace(day=1) - timedelta(days=31 * i)).strftime("%Y-%m") for i in range(5)]
    for m in months[:3]:
        mw.process_request(Request(f"http://h/calendar?month={m}"))
    with pytest.raises(TrapRequest):
        mw.process_request(Request(f"http://h/calendar?month={months[3]}"))
    for url in ("http://h/item/20261105.html", "http://h/list?page=300", "http://h/a/b/a/b/"):
        mw.process_request(Request(url))  # ids, deep pagination, a little repetition: fine


def test_trap_guard_breaks_redirect_loops():
    mw = TrapGuardMiddleware.from_crawler(crawler())
    request = Request("http://h/b", meta={"redirect_urls": ["http://h/a"]})
    response = Response("http://h/b", status=302, headers={"Location": "/a"})
    with pytest.raises(TrapRequest) as info:
        mw.process_response(request, response)
    assert info.value.kind == "redirect_loop"
    fine = Response("http://h/b", status=302, headers={"Location": "/c"})
    assert mw.process_response(request, fine) is fine


def test_retry_after_is_seconds_or_an_http_date():
    assert retry_after_seconds(b"7") == 7.0
    when = datetime(2026, 11, 29, 12, 0, 30, tzinfo=timezone.utc)
    now = datetime(2026, 11, 29, 12, 0, 0, tzinfo=timezone.utc).timestamp()
    assert retry_after_seconds(format_datetime(when, usegmt=True), now=now) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_backoff_honours_retry_after_and_grows_exponentially():
    c = crawler(WILDWATCH_RETRY_AFTER_MAX=5, WILDWATCH_RETRY_BACKOFF_BASE=1, WILDWATCH_RETRY_BACKOFF_MAX=3)
    mw = BackoffRetryMiddleware.from_crawler(c)
    request = Request("http://h/x")
    too_many = HtmlResponse("http://h/x", status=429, headers={"Retry-After": "60"}, request=request)
    assert mw._delay(Request("http://h/x", meta={"retry_times": 1}), too_many) == 5  # capped
    assert c.stats.get_value("wildwatch/retry/retry_after") == 1
    delays = [mw._delay(Request("http://h/x", meta={"retry_times": n}), None) for n in (1, 2, 3, 4)]
    assert 0.8 <= delays[0] <= 1.2 and 1.6 <= delays[1] <= 2.4 and delays[3] <= 3 * 1.2


def test_failure_kinds():
    response = HtmlResponse("http://h/x", status=503, request=Request("http://h/x"))
    assert failure_kind(Failure(HttpError(response))) == "http_503"
    assert failure_kind(Failure(TrapRequest("calendar", "u"))) == "trap_calendar"
    assert failure_kind(Failure(IgnoreRequest("Forbidden by robots.txt"))) == "robots_forbidden"
    assert failure_kind(Failure(IgnoreRequest("max redirections reached"))) == "redirect_loop"


def test_dates_in_urls():
    assert str(url_date("http://h/2026/11/05/post")) == "2026-11-05"
    assert str(url_date("http://h/cal?year=2026&month=3")) == "2026-03-01"
    assert url_date("http://h/item/1234") is None
