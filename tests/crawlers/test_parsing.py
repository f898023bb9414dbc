from datetime import datetime, timezone
from decimal import Decimal

import pytest

from crawlers.parsing import parse_posted, parse_price


@pytest.mark.parametrize(
    ("raw", "lang", "value", "currency"),
    [
        ("¥1,200", "zh", "1200", "CNY"),
        ("2800元", "zh", "2800", "CNY"),
        ("可小刀 ¥680", "zh", "680", "CNY"),
        ("1.200.000đ", "vi", "1200000", "VND"),
        ("1tr2", "vi", "1200000", "VND"),
        ("2 triệu", "vi", "2000000", "VND"),
        ("1,5tr", "vi", "1500000", "VND"),
        ("850k", "vi", "850000", "VND"),
        ("$1,200 OBO", "en", "1200", "USD"),
        ("US$ 3,500", "en", "3500", "USD"),
        ("£80", "en", "80", "GBP"),
        # the cases and what the demo sites really show
        ("$450 OBO", "en", "450", "USD"),
        ("HK$1,500", "en", "1500", "HKD"),  # not USD: the most specific symbol wins
        ("3,200 yuan", "en", "3200", "CNY"),
        ("13tr5", "vi", "13500000", "VND"),
        ("4,5 triệu", "vi", "4500000", "VND"),
        ("3 triệu/lạng", "vi", "3000000", "VND"),
        ("95.000đ/lon", "vi", "95000", "VND"),
        ("5.500.000 VNĐ", "vi", "5500000", "VND"),
        ("150k/hộp", "vi", "150000", "VND"),
        ("可小刀 ￥680", "zh", "680", "CNY"),  # the full-width yuan sign of GBK pages
        ("￥9,500", "zh", "9500", "CNY"),
    ],
)
def test_prices(raw: str, lang: str, value: str, currency: str) -> None:
    assert parse_price(raw, lang) == (Decimal(value), currency)


@pytest.mark.parametrize("raw", ["面议", "ib giá", "Thỏa thuận", "Make offer", "inbox", "Liên hệ", "", None])
def test_price_on_request_has_no_value(raw: str | None) -> None:
    assert parse_price(raw, "zh") == (None, None)


NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)  # 20:00 in Shanghai / 19:00 in Hanoi


@pytest.mark.parametrize(
    ("raw", "lang", "tz", "expected"),
    [
        ("3天前", "zh", "Asia/Shanghai", datetime(2026, 11, 26, 12, 0)),
        ("昨天 14:20", "zh", "Asia/Shanghai", datetime(2026, 11, 28, 6, 20)),
        ("11月3日", "zh", "Asia/Shanghai", datetime(2026, 11, 2, 16, 0)),
        ("2 giờ trước", "vi", "Asia/Ho_Chi_Minh", datetime(2026, 11, 29, 10, 0)),
        ("15/11/2026", "vi", "Asia/Ho_Chi_Minh", datetime(2026, 11, 14, 17, 0)),
        ("2 days ago", "en", "UTC", datetime(2026, 11, 27, 12, 0)),
        ("Nov 20, 2026", "en", "UTC", datetime(2026, 11, 20, 0, 0)),
        # the issue's cases and the demo sites' formats
        ("hôm qua", "vi", "Asia/Ho_Chi_Minh", datetime(2026, 11, 28, 12, 0)),
        ("Hôm nay 08:30", "vi", "Asia/Ho_Chi_Minh", datetime(2026, 11, 29, 1, 30)),
        ("1 tuần trước", "vi", "Asia/Ho_Chi_Minh", datetime(2026, 11, 22, 12, 0)),
        ("20/11/2026 14:30", "vi", "Asia/Ho_Chi_Minh", datetime(2026, 11, 20, 7, 30)),
        ("ngày 23 tháng 11 năm 2026", "vi", "Asia/Ho_Chi_Minh", datetime(2026, 11, 22, 17, 0)),
        ("2026-3-2 10:00", "zh", "Asia/Shanghai", datetime(2026, 3, 2, 2, 0)),  # Discuz!
        ("2026年11月20日", "zh", "Asia/Shanghai", datetime(2026, 11, 19, 16, 0)),
        ("半小时前", "zh", "Asia/Shanghai", datetime(2026, 11, 29, 11, 30)),
        ("前天 08:44", "zh", "Asia/Shanghai", datetime(2026, 11, 27, 0, 44)),
        ("8 小时前", "zh", "Asia/Shanghai", datetime(2026, 11, 29, 4, 0)),
        ("1周前", "zh", "Asia/Shanghai", datetime(2026, 11, 22, 12, 0)),
        ("yesterday", "en", "UTC", datetime(2026, 11, 28, 12, 0)),
        ("20 Nov 2026", "en", "UTC", datetime(2026, 11, 20, 0, 0)),
    ],
)
def test_posting_dates_become_utc(raw: str, lang: str, tz: str, expected: datetime) -> None:
    assert parse_posted(raw, now=NOW, lang=lang, tz=tz) == expected.replace(tzinfo=timezone.utc)


def test_unparseable_date_is_none() -> None:
    assert parse_posted("lúc nào đó", now=NOW, lang="vi") is None
