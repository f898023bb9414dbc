"""Scrapy settings for Wildwatch crawls: polite, identified and bounded by default.

Storing is the ``pipeline`` package's job: its item pipeline is named here by dotted path and
turns itself off (``NotConfigured``) unless ``WILDWATCH_DB`` is set, so ``scrapy crawl`` and
Scrapyd jobs store listings when given a database and this package stays a pure Scrapy project.
Every ``WILDWATCH_*`` setting below can also come from the environment variable of that name.
"""

import os

BOT_NAME = "wildwatch"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# Identify ourselves, with a contact (crawlers.middlewares.ContactUserAgentMiddleware).
WILDWATCH_VERSION = "0.1"
WILDWATCH_CONTACT = os.environ.get("WILDWATCH_CONTACT", "")
WILDWATCH_USER_AGENT = "Wildwatch/{version} (+{contact}; wildlife-trade research crawler)"
USER_AGENT = "Wildwatch/0.1 (+https://github.com/wildwatch/wildwatch; wildlife-trade research crawler)"
# robots.txt is obeyed; a profile may say `robots_obey: false` (logged as a warning, kept in stats).
ROBOTSTXT_OBEY = True

# Politeness: per-domain concurrency with AutoThrottle; profiles may set their own delay.
CONCURRENT_REQUESTS = 16
CONCURRENT_ITEMS = 16  # items per response processed in parallel; Scrapy's 100 costs 100 tasks a page
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0

# Bounded: size, time, retries (with backoff and Retry-After), redirects, pages, depth.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
WILDWATCH_RETRY_BACKOFF_BASE = 0.5
WILDWATCH_RETRY_BACKOFF_MAX = 30.0
WILDWATCH_RETRY_AFTER_MAX = 120.0
REDIRECT_MAX_TIMES = 5
WILDWATCH_MAX_PAGES = int(os.environ.get("WILDWATCH_MAX_PAGES", "5000"))
CLOSESPIDER_PAGECOUNT = 0  # the page budget is PageBudgetMiddleware's: it lets the crawl end cleanly
DEPTH_LIMIT = 0  # long paginations are fine; profiles set max_depth, the budget and trap guards bound crawls

# Trap guards (crawlers.middlewares.TrapGuardMiddleware).
WILDWATCH_TRAP_MAX_SEGMENT_REPEATS = 3
WILDWATCH_TRAP_MAX_DEPTH = 16
WILDWATCH_TRAP_MAX_URL_LENGTH = 2000
WILDWATCH_TRAP_FUTURE_DAYS = 62
WILDWATCH_TRAP_PAST_DAYS = 3 * 366
WILDWATCH_TRAP_MAX_DATES = 12

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "crawlers.middlewares.ContactUserAgentMiddleware": 500,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    # After the redirect middleware on the way in, before it on the way out (loops).
    "crawlers.middlewares.TrapGuardMiddleware": 650,
    "crawlers.middlewares.PageBudgetMiddleware": 660,
}

# Let the spider see error responses through its errback so it can count them by kind.
HTTPERROR_ALLOW_ALL = False

# Store listings when WILDWATCH_DB is set (see the module docstring).
WILDWATCH_DB = os.environ.get("WILDWATCH_DB", "")
ITEM_PIPELINES = {"pipeline.scrapy_store.StorePipeline": 300}

# Distributed crawls (scrapy-redis): see crawlers/distributed.py and docs/crawling.md.
WILDWATCH_REDIS_URL = os.environ.get("WILDWATCH_REDIS_URL", "redis://127.0.0.1:6379/0")
WILDWATCH_CRAWL_ID = os.environ.get("WILDWATCH_CRAWL_ID", "")
WILDWATCH_WORKER_TTL = int(os.environ.get("WILDWATCH_WORKER_TTL", "30"))  # seconds without heartbeat = dead
WILDWATCH_DISTRIBUTED_IDLE_MAX = float(os.environ.get("WILDWATCH_DISTRIBUTED_IDLE_MAX", "60"))

COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
