"""Field parsing for listings as sellers really write them: prices and posting dates.

Built on well-kept libraries — ``price-parser`` for amounts, ``dateparser`` for dates in zh/vi/en
(relative ones like ``3天前``, ``2 giờ trước``) — with the cases they miss handled here and tested:
Vietnamese shorthand (``1tr2``, ``2 triệu``, ``850k``), currency words (``元``, ``VNĐ``) and
"price on request" phrases (``面议``, ``ib giá``, ``make offer``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

from price_parser import Price

# Currency symbols and words → ISO 4217.
_CURRENCY = [  # most specific first: HK$ before $
    (re.compile(r"hk\$|hkd|港[币元]", re.I), "HKD"),
    (re.compile(r"us\$|usd|\$", re.I), "USD"),
    (re.compile(r"[¥￥]|元|rmb|cny|块|\byuan\b", re.I), "CNY"),
    (re.compile(r"vn[dđ]|[đ₫]|triệu|\btr\b|\d\s*tr\d*\b|nghìn|ngàn", re.I), "VND"),
    (re.compile(r"£|gbp", re.I), "GBP"),
    (re.compile(r"€|eur", re.I), "EUR"),
]
_ON_REQUEST = re.compile(
    r"面议|议价|私聊|价格私|ib\s*gi[aá]|inbox|th[oỏ]a\s*thu[aậ]n|li[eê]n\s*h[eệ]|make\s*(an\s*)?offer"
    r"|price\s*on\s*request|\bpm\b|\bdm\b|\bpoa\b",
    re.I,
)
# Vietnamese shorthand: 1tr2 = 1,200,000; 2 triệu = 2,000,000; 1,5tr = 1,500,000; 850k = 850,000.
_VI_MILLION = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:tr(?:i[eệ]u)?)\s*(\d{1,3})?(?![\w])", re.I)
_THOUSAND_K = re.compile(r"(\d+(?:[.,]\d+)?)\s*k\b", re.I)


def parse_price(raw: str | None, lang: str | None = None) -> tuple[Decimal | None, str | None]:
    """``'1tr2'`` → ``(Decimal('1200000'), 'VND')``; ``'面议'`` → ``(None, None)``."""
    if not raw or not raw.strip():
        return None, None
    text = raw.strip()
    currency = next((code for pattern, code in _CURRENCY if pattern.search(text)), None)
    if m := _VI_MILLION.search(text):
        value = _decimal(m.group(1)) * 1_000_000
        if m.group(2):
            value += Decimal(m.group(2).ljust(3, "0")[:3]) * 1000
        return _whole(value), "VND"
    if (m := _THOUSAND_K.search(text)) and (currency in (None, "VND")) and lang == "vi":
        return _whole(_decimal(m.group(1)) * 1000), "VND"
    price = Price.fromstring(text)
    if price.amount is None:
        return None, None
    if _ON_REQUEST.search(text) and not re.search(r"\d", text):
        return None, None
    if currency is None and lang:
        currency = {"zh": "CNY", "vi": "VND"}.get(lang)
    return price.amount, currency


def _whole(value: Decimal) -> Decimal:
    """``Decimal('4500000.0')`` → ``Decimal('4500000')``: shorthand amounts are whole dong."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def _decimal(number: str) -> Decimal:
    try:
        return Decimal(number.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the regex only admits digits
        return Decimal(0)


_DATEPARSER_LANGS = {"zh": ["zh", "en"], "vi": ["vi", "en"], "en": ["en"]}


def parse_posted(
    raw: str | None, *, now: datetime, lang: str | None = None, tz: str = "UTC"
) -> datetime | None:
    """A posting date as displayed (``3天前``, ``hôm qua``, ``Nov 20, 2026``) → aware UTC datetime.

    Relative dates are taken relative to ``now`` (the fetch time) in the site's time zone ``tz``.
    Day-first order is assumed for all-numeric dates (``15/11/2026``), as in zh/vi/most en sites
    outside the US; a profile can set its own ``date_order``.
    """
    if not raw or not raw.strip():
        return None
    # dateparser takes ~5 ms a call; a site repeats its date strings ("2 giờ trước", "昨天 14:20")
    # on every page, so results are cached per minute of fetch time.
    minute = now.astimezone(timezone.utc).replace(second=0, microsecond=0)
    parsed = _parse_posted_cached(raw.strip(), minute, lang, tz)
    return None if parsed is None else parsed + (now - minute if _is_relative(raw) else timedelta(0))


_RELATIVE = re.compile(r"trước|前|ago|giây|phút|分钟|秒|hour|minute|second|giờ|小时", re.I)


def _is_relative(raw: str) -> bool:
    """A date counted back from now to the second ("5 phút trước"), which caching must not round."""
    return bool(_RELATIVE.search(raw)) and not re.search(r"\d{1,2}:\d{2}", raw)


@lru_cache(maxsize=4096)
def _parse_posted_cached(raw: str, now: datetime, lang: str | None, tz: str) -> datetime | None:
    import dateparser  # slow to import; only crawls need it

    local_now = now.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    parsed = dateparser.parse(
        raw,
        languages=_DATEPARSER_LANGS.get(lang or "", ["zh", "vi", "en"]),
        settings={
            "RELATIVE_BASE": local_now,
            "TIMEZONE": tz,
            "TO_TIMEZONE": "UTC",
            "RETURN_AS_TIMEZONE_AWARE": True,
            "DATE_ORDER": "DMY" if not re.match(r"\d{4}", raw.strip()) else "YMD",
            "PREFER_DATES_FROM": "past",
        },
    )
    if parsed is None:
        # dateparser misses month-day without a year in Chinese: 11月3日 (this year, or last).
        if m := re.search(r"(\d{1,2})月(\d{1,2})日", raw):
            candidate = local_now.replace(month=int(m.group(1)), day=int(m.group(2)), hour=0, minute=0)
            if candidate > local_now:
                candidate = candidate.replace(year=candidate.year - 1)
            return candidate.replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)
        return None
    return parsed.astimezone(timezone.utc)
