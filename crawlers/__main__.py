"""`python -m crawlers [--config DIR] [--source NAME]... [--cycle-id ID] [--worker [--round ID]]`:
one crawl, then exit. With `--worker`, the crawl is shared with other workers through Redis
(`crawlers.distributed`)."""

from __future__ import annotations

import argparse
import sys

from crawlers.runner import UnknownSource, crawl
from responder import clock, logs
from responder.settings import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers")
    parser.add_argument("--config", help="configuration directory")
    parser.add_argument("--source", action="append", default=[], help="only this source")
    parser.add_argument("--cycle-id", default="manual", help="cycle this crawl belongs to")
    parser.add_argument(
        "--worker", action="store_true", help="share the crawl through Redis (crawl.redis_url)"
    )
    parser.add_argument(
        "--round",
        help="with --worker: the round to work on (default: the open one, or a new one;"
        " its ID is the cycle ID of the records)",
    )
    args = parser.parse_args(argv)
    if args.round and not args.worker:
        parser.error("--round needs --worker")
    try:
        settings = load_settings(args.config)
        if settings.log_format == "json":
            # One JSON object per line like the scheduler that started the crawl (Scrapy then
            # installs no handler of its own); text logs keep Scrapy's format.
            logs.setup(settings.log_level, "json")
        with logs.in_run(args.cycle_id):  # the scheduler's cycle id, as in its own records
            if args.worker:
                # Imported only here: scrapy-redis and redis take a second to import.
                from crawlers.distributed import WorkerError, crawl_as_worker

                try:
                    crawl_as_worker(settings, args.source, args.round)
                except WorkerError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 2
            else:
                crawl(settings, args.source, args.cycle_id)
    except (ConfigError, UnknownSource) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    # The process entry, not main(): a test calling main() in process has its time moved already.
    clock.follow_environment()
    sys.exit(main())
