"""Operations: source health and crawl-run housekeeping, metrics, backup and restore,
retention and data export."""
