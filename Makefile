# Every target creates .venv when it is missing. torch is pinned to the local CPU build and is
# installed before anything else: an unpinned torch would pull several GB of CUDA packages.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-clock test-servers bench lint clean

$(STAMP): pyproject.toml $(wildcard nlp/corpus/parts/*.jsonl)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,bench]'
	# The shipped sentiment/category model is trained from nlp/corpus, never committed.
	$(BIN)/yuqing train
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/yuqing demo

# The distributed-crawl tests start a real redis-server; the report tests draw Chinese charts
# (fonts-noto-cjk) and render a report in the system's Chromium (chromium; Playwright's own
# browser download is never used); the PostgreSQL and backup tests start a throwaway cluster
# of Debian's postgresql (as the `postgres` user when root); the mailbox tests an IMAP server
# (dovecot-imapd, its own config in a temp directory on 127.0.0.1). Installed here when missing and we
# are root with apt-get; never fails the build: without them those tests skip, naming the
# package.
test-servers:
	@command -v redis-server >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null 2>&1 \
		&& { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null 2>&1 \
		|| { apt-get update -qq >/dev/null 2>&1 \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null 2>&1; }; }; \
		} || echo "redis-server not installed: the distributed-crawl tests will skip"
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q .; } \
		|| { [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null 2>&1 \
		&& { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null 2>&1 \
		|| { apt-get update -qq >/dev/null 2>&1 \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null 2>&1; }; }; \
		} || echo "chromium or fonts-noto-cjk not installed: the report chart and browser tests will skip"
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; } \
		|| { [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null 2>&1 \
		&& { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 \
		|| { apt-get update -qq >/dev/null 2>&1 \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1; }; }; \
		} || echo "postgresql not installed: the PostgreSQL and backup tests will skip"
	@test -x /usr/lib/dovecot/imap \
		|| { [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null 2>&1 \
		&& { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null 2>&1 \
		|| { apt-get update -qq >/dev/null 2>&1 \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null 2>&1; }; }; \
		} || echo "dovecot-imapd not installed: the mailbox source tests will skip"

test: $(STAMP) test-servers
	$(BIN)/python -m pytest

# The date-sensitive tests (marker `clock`) as at instants that catch the calendar's edges: just
# after midnight office time on the first of a month, the end of a leap day, New Year's Eve one
# minute before midnight (UTC is still in the old day), and an ordinary day years ahead.
CLOCK_INSTANTS := 2027-03-01T00:05+08:00 2028-02-29T23:55+08:00 2026-12-31T23:59+08:00 2030-07-15T12:00+08:00

test-clock: $(STAMP) test-servers
	@set -e; for instant in $(CLOCK_INSTANTS); do \
		echo "== pytest -m clock --now $$instant"; \
		$(BIN)/python -m pytest -q -m clock --now $$instant; \
	done

lint: $(STAMP)
	$(BIN)/ruff check crawlers nlp responder tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

EXTRACTORS := "readability-lxml>=0.8" "goose3>=3.1" "newspaper4k>=0.9" "gne>=0.3"

bench: $(STAMP)
	$(BIN)/pip install -q --disable-pip-version-check $(EXTRACTORS)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) data
