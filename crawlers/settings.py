"""Scrapy settings of the yuqing crawler. Values that an office may change come from yuqing's
settings object in `crawlers.runner`; these are the fixed parts."""

BOT_NAME = "yuqing"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

ITEM_PIPELINES = {
    "crawlers.pipelines.NormalisePipeline": 100,
    "crawlers.pipelines.WatchPipeline": 150,
    "crawlers.pipelines.RelevancePipeline": 200,
    "crawlers.pipelines.DuplicatePipeline": 300,
    "crawlers.pipelines.SavePipeline": 900,
}

SPIDER_MIDDLEWARES = {
    # Outermost on the way out: an exception in any callback becomes an error of the run.
    "crawlers.errors.CallbackErrorMiddleware": 10,
    # Answers the spiders' "is this link stored or set aside already?" (crawlers/known.py).
    "crawlers.known.KnownPagesMiddleware": 50,
}

# Between HttpCompressionMiddleware (590), whose decompressed body it needs, and
# MetaRefreshMiddleware (580), which already reads the page text.
DOWNLOADER_MIDDLEWARES = {
    "crawlers.encoding.EncodingMiddleware": 585,
    # Scrapy's own retry middleware, with a pause before each retry.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.retry.BackoffRetryMiddleware": 550,
    # Sees a redirect before RedirectMiddleware (600) follows it: a loop fails with its reason.
    "crawlers.redirects.RedirectLoopMiddleware": 610,
}

# Per-domain concurrency counted when a request is handed over and shared by the crawlers (one
# per source) of a crawl: see crawlers/downloader.py.
DOWNLOADER = "crawlers.downloader.PoliteDownloader"

# Scrapy 2.13+ starts a telnet/remote console by default; a monitor has no use for one.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
RETRY_ENABLED = True
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_DELAY = 0
COOKIES_ENABLED = False
LOG_LEVEL = "INFO"
# The pipelines are synchronous and a page yields one item: Scrapy's default of 100 parallel
# items per response only costs an asyncio task each (measured by bench/crawl).
CONCURRENT_ITEMS = 4
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
