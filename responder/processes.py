"""Which process owns a claim or a run ("host:pid"), and whether that process is gone.

The outbox's claims and the crawl runs record their owner this way, so what a process left
behind when it died (SIGKILL, the OOM killer, a power cut) can be taken over or closed at once
on the same host. Nothing can be known about a process on another host: callers wait for an
age instead.
"""

from __future__ import annotations

import os
import socket

HOST = socket.gethostname()


def this_process() -> str:
    """This process as an owner: "host:pid"."""
    return f"{HOST}:{os.getpid()}"


def on_this_host(owner: str | None) -> bool:
    return (owner or "").rpartition(":")[0] == HOST


def is_dead(owner: str | None) -> bool:
    """True when `owner` ("host:pid") is a process on this host that no longer runs.

    False for this process, for another host's process (its fate is unknown here), for an
    owner that cannot be read and for a process alive under another user. A pid the system has
    given to a new process since counts as alive: the mistake errs towards waiting.
    """
    pid = (owner or "").rpartition(":")[2]
    if not on_this_host(owner) or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, under another user
    return False
