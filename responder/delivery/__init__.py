"""Delivery: the database outbox and the channels it sends through (SMTP mail, chat robots).
Everything that leaves the office leaves through here; nothing here decides what to send."""
