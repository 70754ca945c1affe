"""Replies: drafts written from the press office's approved templates (应答口径), the template
library and its review, and the export of approved drafts."""
