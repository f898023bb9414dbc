"""Scrapy settings for Wildwatch crawls: polite and bounded by default.

The item pipeline that stores listings lives in ``pipeline`` and is enabled by whoever runs the
crawl (``pipeline.crawl``), so this package stays a pure Scrapy project.
"""

BOT_NAME = "wildwatch"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# Identify ourselves, with a contact, and obey robots.txt.
WILDWATCH_CONTACT = "https://github.com/wildwatch/wildwatch (set WILDWATCH_CONTACT)"
USER_AGENT = f"Wildwatch/0.1 (+{WILDWATCH_CONTACT}; wildlife-trade research crawler)"
ROBOTSTXT_OBEY = True

# Politeness: per-domain concurrency with AutoThrottle; profiles may set their own delay.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0

# Bounded: size, time, retries, pages.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
CLOSESPIDER_PAGECOUNT = 5000
DEPTH_LIMIT = 50

# Let the spider see error responses so it can count them by kind instead of losing them.
HTTPERROR_ALLOW_ALL = False

COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
