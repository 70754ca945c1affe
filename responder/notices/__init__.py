"""Notices: who must hear about an incident and when — escalation to leadership, the duty
officer's batched alerts and digests, acknowledgement links, the duty roster, and the notice that
a message could not be delivered."""
