"""A downloader that holds `CONCURRENT_REQUESTS_PER_DOMAIN` (`crawl.concurrent_per_domain`) for
the whole crawl process.

Scrapy's own downloader fell short of it twice (measured by tests/test_crawl_politeness.py):

1. On the asyncio reactor (Scrapy 2.19), a request counts as transferring only once its
   download task starts to run, while a slot hands its queued requests to new tasks in a loop
   that checks that count: one pass started every queued request at once (8 in flight to a
   site with a limit of 2).
2. The limit is per crawler, and a crawl runs one crawler per source: two sources on one site
   had twice the limit in flight.

Here a request counts as transferring as soon as it is handed over, and a slot's free
transfers are what the limit leaves after the transfers of every slot for the same domain in
the process. When a download ends, the domain's slots in the other crawlers get their turn
(the slot that ended first, as in Scrapy).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any

from scrapy import Request, Spider
from scrapy.core.downloader import Downloader, Slot
from scrapy.http import Response
from twisted.internet.defer import Deferred

# Every slot of the process by slot key (the domain): one per crawler that sent it requests.
_PEERS: defaultdict[str, weakref.WeakSet[SharedSlot]] = defaultdict(weakref.WeakSet)


class SharedSlot(Slot):
    """A downloader slot whose concurrency is shared with the slots for the same domain in the
    other crawlers of the process."""

    def __init__(self, slot: Slot, downloader: PoliteDownloader, key: str) -> None:
        super().__init__(slot.concurrency, slot.delay, slot.jitter)
        self.downloader = weakref.ref(downloader)
        self.peers = _PEERS[key]
        self.peers.add(self)

    def free_transfer_slots(self) -> int:
        in_flight = sum(len(peer.transferring) for peer in list(self.peers))
        return min(super().free_transfer_slots(), self.concurrency - in_flight)

    def wake_peers(self) -> None:
        """Let the domain's slots in other crawlers start what they hold back."""
        for peer in list(self.peers):
            downloader = peer.downloader()
            if peer is not self and peer.queue and downloader is not None:
                downloader._process_queue(peer)


class PoliteDownloader(Downloader):
    """Scrapy's downloader with per-domain concurrency counted right and shared by every
    crawler of the process (see the module docstring)."""

    def _get_slot(self, request: Request, spider: Spider | None = None) -> tuple[str, Slot]:
        key = self.get_slot_key(request)
        if key not in self.slots:
            # Scrapy's slot (per-slot settings, delay, jitter), made shared.
            _, slot = super()._get_slot(request)
            self.slots[key] = SharedSlot(slot, self, key)
        return key, self.slots[key]

    def _wait_for_download(  # type: ignore[override]
        self, slot: Slot, request: Request, queue_dfd: Deferred[Response]
    ) -> Coroutine[Any, Any, None]:
        # Called when the slot hands the request over; the coroutine runs later. Counting it
        # now keeps the slot's hand-over loop within the limit.
        slot.transferring.add(request)
        return super()._wait_for_download(slot, request, queue_dfd)

    async def _download(self, slot: Slot, request: Request) -> Response:
        try:
            return await super()._download(slot, request)
        finally:
            if isinstance(slot, SharedSlot):
                slot.wake_peers()
