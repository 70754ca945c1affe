"""`python -m bench`: run every benchmark and print its table."""

import sys

from bench import crawl, nlp, scale

if __name__ == "__main__":
    nlp.main()
    # The table: cycles over 10k and 100k, and a million stored on both backends.
    scale.main(["--process", "10000,100000", "--postgres"])
    # Non-zero when a crawl target is missed, as `python -m bench.crawl` alone would exit.
    sys.exit(crawl.main([]))
