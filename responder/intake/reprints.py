"""Reprints (转载): the same story stored from several sites is grouped, not repeated.

Each stored mention gets a MinHash signature of its text (character 3-grams, punctuation and
spaces removed; titles are left out because reprinting sites retitle). A mention whose
estimated Jaccard similarity to a mention stored in the last `crawl.reprint_days` days reaches
`crawl.reprint_similarity` points `reprint_of` at the first mention of that group. MinHash LSH
comes from datasketch; SimHash was rejected because its recall on short posts is poor
(FACTS.md: ≈0.09 at Hamming ≤ 3).

Grouping runs after every crawl and import on the mentions that have no signature yet, so it
is idempotent and a crash in between only delays it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from responder import clock
from responder.models import Mention
from responder.settings import Settings

if TYPE_CHECKING:
    from datasketch import MinHash

NUM_PERM = 128
SHINGLE = 3
# Stored signatures are only comparable under the scheme that made them; datasketch 2 asks for
# it explicitly when signatures are read back.
SCHEME = "affine32"
DTYPE = np.uint32
# LSH only proposes candidates; above this it cannot be tuned with 128 permutations, and the
# exact estimate against the configured threshold decides anyway.
MAX_LSH_THRESHOLD = 0.9
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def shingles(text: str) -> set[bytes]:
    chars = _NOT_WORD.sub("", text).lower()
    if len(chars) <= SHINGLE:
        return {chars.encode("utf-8")} if chars else set()
    return {chars[i : i + SHINGLE].encode("utf-8") for i in range(len(chars) - SHINGLE + 1)}


def signature(text: str) -> MinHash:
    # Lazy: datasketch loads scipy (~0.4 s), which every CLI command would pay at start-up.
    from datasketch import MinHash

    minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    minhash.update_batch(shingles(text))
    return minhash


def _from_bytes(data: bytes) -> MinHash:
    from datasketch import MinHash  # lazy: scipy, see `signature`

    return MinHash(num_perm=NUM_PERM, hashvalues=np.frombuffer(data, dtype=DTYPE), scheme=SCHEME)


def group_reprints(session: Session, settings: Settings) -> int:
    """Sign the mentions not signed yet and link reprints to their group; returns how many
    mentions were found to be reprints."""
    pending = session.scalars(
        select(Mention).where(Mention.minhash.is_(None)).order_by(Mention.id)
    ).all()
    if not pending:
        return 0
    threshold = settings.crawl.reprint_similarity
    since = clock.now() - timedelta(days=settings.crawl.reprint_days)
    from datasketch import MinHashLSH  # lazy: scipy, see `signature`

    lsh = MinHashLSH(threshold=min(threshold, MAX_LSH_THRESHOLD), num_perm=NUM_PERM)
    roots: dict[int, int] = {}
    signatures: dict[int, MinHash] = {}
    recent = session.execute(
        select(Mention.id, Mention.reprint_of, Mention.minhash).where(
            Mention.minhash.is_not(None), Mention.fetched_at >= since
        )
    ).all()
    for mention_id, reprint_of, data in recent:
        assert data is not None
        signatures[mention_id] = _from_bytes(data)
        roots[mention_id] = reprint_of or mention_id
        lsh.insert(mention_id, signatures[mention_id])
    reprints = 0
    for mention in pending:
        minhash = signature(mention.text)
        # An empty signature equals every other empty one; such a text is no one's reprint.
        matches = (
            [
                other
                for other in lsh.query(minhash)
                if signatures[other].jaccard(minhash) >= threshold
            ]
            if not minhash.is_empty()
            else []
        )
        if matches:
            mention.reprint_of = min(roots[other] for other in matches)
            reprints += 1
        mention.minhash = minhash.hashvalues.astype(DTYPE).tobytes()
        signatures[mention.id] = minhash
        roots[mention.id] = mention.reprint_of or mention.id
        lsh.insert(mention.id, minhash)
    session.flush()
    return reprints
