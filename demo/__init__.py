"""Local demo sites (zh / vi / en marketplaces) for ``wildwatch demo`` and the tests."""

from demo.server import ALL_SITES, BAD_PAGES, EXTRA_SITES, SITES, DemoSites, RequestRecord

__all__ = ["ALL_SITES", "BAD_PAGES", "EXTRA_SITES", "SITES", "DemoSites", "RequestRecord"]
