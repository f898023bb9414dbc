"""Local demo sites (zh / vi / en marketplaces) for ``wildwatch demo`` and the tests."""

from demo.server import BAD_PAGES, SITES, DemoSites, RequestRecord

__all__ = ["BAD_PAGES", "SITES", "DemoSites", "RequestRecord"]
