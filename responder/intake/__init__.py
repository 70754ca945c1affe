"""Intake: what enters the store. Crawled batches and imported files become mentions here
(canonical URLs, reprint groups, privacy masking, crawl runs and the page trail, hot-list
sightings and watched pages' last texts); dates and
engagement counts as pages and exports write them are read here, for crawlers and imports alike.
Search over stored mentions lives here too. Nothing here judges or decides."""

# Imported for its mapper events: every mention written through the ORM is indexed for search in
# the same flush, whichever intake module wrote it.
from responder.intake import search  # noqa: E402, F401
