"""`python -m crawlers [--config DIR] [--source NAME]... [--cycle-id ID]`: one crawl, then exit."""

from __future__ import annotations

import argparse
import sys

from crawlers.runner import UnknownSource, crawl
from responder.settings import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers")
    parser.add_argument("--config", help="configuration directory")
    parser.add_argument("--source", action="append", default=[], help="only this source")
    parser.add_argument("--cycle-id", default="manual", help="cycle this crawl belongs to")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
        crawl(settings, args.source, args.cycle_id)
    except (ConfigError, UnknownSource) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
