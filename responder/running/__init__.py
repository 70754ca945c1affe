"""Running: one monitoring cycle (crawl → intake → judge → incidents → notices/drafts →
delivery), the scheduler that repeats it, configured schedules and start-up checks."""
