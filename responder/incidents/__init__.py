"""Incidents: mentions grouped into real-world events (triage, grouping), their severity
level, spread and hot-list standing, and the actions people take on them (decide a level,
close, reopen, split)."""
