"""`mailbox` sources: the office's public mailbox (局长信箱 and the addresses forwarding to it),
read over IMAP.

It makes no HTTP requests: `start()` reads the folder through `crawlers.mailbox` in a thread
(imaplib blocks; the reactor must not) and yields one item per new letter, which the usual
pipelines mask, de-duplicate and store. Every letter is kept (`keeps_all`): writing to the
office's own mailbox is what makes it concern the office, keyword rules or not.

Having no requests, it cannot be split through the shared queue of a `--worker` round: one
worker of the round reads the whole folder (`claim_source`), the others leave it and record no
run for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from email.errors import MessageError
from typing import Any, TypeVar

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from crawlers.items import MentionItem
from crawlers.letters import Letter, read_letter
from crawlers.mailbox import MailboxError, MailboxReader
from crawlers.spiders.base import SourceSpider
from responder import clock

T = TypeVar("T")


class MailboxSpider(SourceSpider):
    name = "mailbox"
    keeps_all = True

    async def _in_thread(self, call: Callable[..., T], *args: Any) -> T:
        result: T = await maybe_deferred_to_future(deferToThread(call, *args))
        return result

    def _read(self) -> None:
        self.crawler.stats.inc_value("yuqing/fetched")

    async def start(self) -> AsyncIterator[Any]:
        if not self.claim_source():
            # Another worker of the round reads the folder (see `SourceSpider.claim_source`).
            return
        source, settings = self.source, self.yuqing
        reader = MailboxReader(
            source,
            settings.mailbox_passwords.get(source.name, ""),
            timeout=settings.crawl.download_timeout,
        )
        # SINCE is by day; the look-back window itself is applied to each letter's date.
        since = (clock.now().astimezone(settings.tz) - self.lookback - timedelta(days=1)).date()
        try:
            try:
                await self._in_thread(reader.open)
                listed = await self._in_thread(reader.list_since, since)
            except MailboxError as exc:
                self.parse_error(source.url, str(exc))
                return
            self._read()
            new = set(self.new_links(item.url for item in listed))
            for item in listed:
                if item.url not in new:
                    continue
                if item.size > settings.crawl.max_response_bytes:
                    yield MentionItem(
                        source=source.name,
                        url=item.url,
                        unreadable=f"信件过大（{item.size} 字节），未读取",
                    )
                    continue
                try:
                    raw = await self._in_thread(reader.fetch, item.uid)
                except MailboxError as exc:
                    # The server went away: what was read is stored, the rest waits for the
                    # next run, which lists it again as not yet stored.
                    self.parse_error(source.url, str(exc))
                    return
                self._read()
                try:
                    letter = read_letter(raw, item.url)
                except (ValueError, LookupError, MessageError) as exc:
                    # The parser is lenient; what still raises is a letter nobody can read.
                    letter = Letter(item.url, problem=f"无法解析（{type(exc).__name__}: {exc}）")
                # Listed and fetched alike are named by the listing, whatever the raw holds.
                letter.url = item.url
                yield self.item(letter)
        finally:
            await self._in_thread(reader.close)

    def item(self, letter: Letter) -> MentionItem:
        if letter.problem:
            self.parse_error(letter.url, letter.problem)
        return MentionItem(
            source=self.source.name,
            url=letter.url,
            title=letter.subject,
            text=letter.text,
            author=letter.sender,
            outlet=self.source.outlet or self.source.name,
            published=letter.date,
            published_at=letter.published_at,
            unreadable=letter.problem or "",
        )
