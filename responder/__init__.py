"""The yuqing application: settings, storage, incidents, drafts, outbox, web and CLI."""
