"""`python -m bench`: run every benchmark and print its table."""

import sys

from bench import crawl, nlp, scale

if __name__ == "__main__":
    nlp.main()
    scale.main([])
    # Non-zero when a crawl target is missed, as `python -m bench.crawl` alone would exit.
    sys.exit(crawl.main([]))
