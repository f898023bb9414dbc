"""Distributed crawls: several crawler processes, on several machines, share one crawl through Redis.

Built on scrapy-redis (its scheduler and its Redis dupefilter); what Wildwatch adds is a frontier
that survives ``kill -9``:

* every key of a crawl lives under ``wildwatch:<crawl id>:<site>:`` so crawls never collide;
* :class:`ReliableQueue` pops a request by *moving* it into an in-flight hash, owned by the
  worker that took it (``…:inflight`` / ``…:owners``, atomically, in a Lua script);
* :class:`DistributedCrawl` (an extension) acknowledges a request once Scrapy has completely
  processed it — callback run, items through the item pipelines, new requests queued — keeps a
  heartbeat key per worker (``…:workers:<token>``, TTL ``WILDWATCH_WORKER_TTL``), puts the in-flight
  requests of dead workers back in the queue, and keeps an idle worker alive while others may
  still add work (up to ``WILDWATCH_DISTRIBUTED_IDLE_MAX`` seconds).

So a crawl killed midway is resumed by starting a worker with the same crawl id: the queue and the
dupefilter are in Redis, and what the dead worker had in flight is fetched again (its listings
are stored idempotently, so nothing is duplicated).

    wildwatch crawl zh_market --distributed nightly-2026-11-29                    # on each machine
    SCRAPY_SETTINGS_MODULE=crawlers.settings WILDWATCH_DB=… \
        scrapy crawl profile -a profile=zh_market -a crawl_id=nightly-2026-11-29   # the same, bare Scrapy
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from typing import Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.queue import PriorityQueue

logger = logging.getLogger(__name__)

INFLIGHT_META = "wildwatch_inflight"
WORKER_TOKEN = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def key_prefix(crawl_id: str, site: str) -> str:
    return f"wildwatch:{crawl_id}:{site}"


def distributed_settings(crawl_id: str, site: str, redis_url: str | None) -> dict[str, Any]:
    """The Scrapy settings that put one site's crawl on the shared Redis frontier."""
    prefix = key_prefix(crawl_id, site)
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "SCHEDULER_QUEUE_CLASS": "crawlers.distributed.ReliableQueue",
        "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,  # a crawl outlives its workers; keys expire (see DistributedCrawl)
        "REDIS_URL": redis_url or "redis://127.0.0.1:6379/0",
        "WILDWATCH_CRAWL_ID": crawl_id,
        "EXTENSIONS": {"crawlers.distributed.DistributedCrawl": 500},
    }


_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0)
if #r == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
local f = redis.sha1hex(r[1])
redis.call('HSET', KEYS[2], f, r[1])
redis.call('HSET', KEYS[3], f, ARGV[1])
return {f, r[1]}
"""

_REQUEUE_ORPHANS = """
local owners = redis.call('HGETALL', KEYS[3])
local n = 0
for i = 1, #owners, 2 do
  local f, w = owners[i], owners[i + 1]
  if redis.call('EXISTS', ARGV[1] .. w) == 0 then
    local data = redis.call('HGET', KEYS[2], f)
    if data then redis.call('ZADD', KEYS[1], 0, data) end
    redis.call('HDEL', KEYS[2], f)
    redis.call('HDEL', KEYS[3], f)
    n = n + 1
  end
end
return n
"""


class ReliableQueue(PriorityQueue):
    """scrapy-redis's priority queue, with popped requests kept in flight until acknowledged."""

    def __init__(self, server: Any, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.prefix = self.key.rsplit(":", 1)[0]
        self.inflight_key = f"{self.prefix}:inflight"
        self.owners_key = f"{self.prefix}:owners"
        self.workers_prefix = f"{self.prefix}:workers:"
        self.popped: dict[str, Any] = {}  # in-flight id -> the Request object handed to Scrapy
        self._pop = server.register_script(_POP)
        self._requeue = server.register_script(_REQUEUE_ORPHANS)

    def push(self, request: Any) -> None:
        previous = request.meta.pop(INFLIGHT_META, None)  # a retry or redirect of a popped request
        pipe = self.server.pipeline()
        pipe.execute_command("ZADD", self.key, -request.priority, self._encode_request(request))
        if previous:
            pipe.hdel(self.inflight_key, previous)
            pipe.hdel(self.owners_key, previous)
            self.popped.pop(previous, None)
        pipe.execute()

    def pop(self, timeout: int = 0) -> Any:
        found = self._pop(keys=[self.key, self.inflight_key, self.owners_key], args=[WORKER_TOKEN])
        if not found:
            return None
        fid, data = found
        fid = fid.decode() if isinstance(fid, bytes) else fid
        request = self._decode_request(data)
        request.meta[INFLIGHT_META] = fid
        self.popped[fid] = request
        return request

    def ack(self, fids: list[str]) -> None:
        if not fids:
            return
        pipe = self.server.pipeline()
        pipe.hdel(self.inflight_key, *fids)
        pipe.hdel(self.owners_key, *fids)
        pipe.execute()
        for fid in fids:
            self.popped.pop(fid, None)

    def requeue_orphans(self) -> int:
        """Put back what dead workers (no heartbeat) had in flight; returns how many."""
        return int(self._requeue(keys=[self.key, self.inflight_key, self.owners_key], args=[self.workers_prefix]))

    def inflight(self) -> int:
        return int(self.server.hlen(self.inflight_key))


class DistributedCrawl:
    """Heartbeat, acknowledgements, orphan recovery and idle handling for one worker."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.ttl = max(2, settings.getint("WILDWATCH_WORKER_TTL", 30))
        self.idle_max = settings.getfloat("WILDWATCH_DISTRIBUTED_IDLE_MAX", 60)
        self.keep_days = settings.getfloat("WILDWATCH_REDIS_KEEP_DAYS", 7)
        self.idle_since: float | None = None
        self.loop: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> DistributedCrawl:
        if not crawler.settings.get("WILDWATCH_CRAWL_ID"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    @property
    def queue(self) -> ReliableQueue | None:
        slot = getattr(self.crawler.engine, "_slot", None)
        queue = getattr(getattr(slot, "scheduler", None), "queue", None)
        return queue if isinstance(queue, ReliableQueue) else None

    def _heartbeat_key(self, queue: ReliableQueue) -> str:
        return queue.workers_prefix + WORKER_TOKEN

    def spider_opened(self, spider: Any) -> None:
        from twisted.internet import task

        self.crawler.stats.set_value("wildwatch/distributed/worker", WORKER_TOKEN)
        self.crawler.stats.set_value("wildwatch/distributed/crawl_id", self.crawler.settings.get("WILDWATCH_CRAWL_ID"))
        self.tick()
        self.loop = task.LoopingCall(self.tick)
        # Often enough that a kill -9 re-fetches little more than what was really in flight.
        self.loop.start(min(1.0, self.ttl / 3), now=False)

    def tick(self) -> None:
        queue = self.queue
        if queue is None:
            return
        queue.server.set(self._heartbeat_key(queue), str(time.time()), ex=self.ttl)
        self.ack_finished(queue)
        if n := queue.requeue_orphans():
            self.crawler.stats.inc_value("wildwatch/distributed/requeued_orphans", n)
            logger.warning("requeued %d request(s) left in flight by dead workers", n)

    def ack_finished(self, queue: ReliableQueue, everything: bool = False) -> None:
        """Acknowledge the popped requests that Scrapy has finished with (callback, items, requests)."""
        inprogress = getattr(getattr(self.crawler.engine, "_slot", None), "inprogress", set())
        done = [fid for fid, req in list(queue.popped.items()) if everything or req not in inprogress]
        queue.ack(done)
        if done:
            self.crawler.stats.inc_value("wildwatch/distributed/acked", len(done))

    def spider_idle(self, spider: Any) -> None:
        queue = self.queue
        if queue is None:
            return
        self.tick()
        if len(queue):
            self.idle_since = None  # work arrived (another worker's links, requeued orphans)
            raise DontCloseSpider("requests waiting in the shared queue")
        if queue.inflight() == 0:
            return  # nothing left anywhere: this worker may close
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        if now - self.idle_since < self.idle_max:
            raise DontCloseSpider("other workers still have requests in flight")
        logger.warning("closing after %.0f s idle with %d request(s) in flight elsewhere", now - self.idle_since, queue.inflight())

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        queue = self.queue
        if queue is None:
            return
        # After a clean finish nothing of ours is in flight; after shutdown the rest goes back.
        self.ack_finished(queue, everything=reason == "finished")
        queue.server.delete(self._heartbeat_key(queue))
        if queue.popped:
            queue.requeue_orphans()
        expire = int(self.keep_days * 86400)
        for key in (queue.key, queue.inflight_key, queue.owners_key, f"{queue.prefix}:dupefilter"):
            queue.server.expire(key, expire)
