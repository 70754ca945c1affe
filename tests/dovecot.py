"""A throwaway IMAP server for tests: Debian's dovecot, a config written to a temp directory,
listening only on 127.0.0.1 on a free port, plaintext login allowed (loopback, no TLS), users
from a passwd-file and their maildirs in the same directory; removed when the session ends.

As root the mail belongs to `nobody` (dovecot refuses mail access as uid 0); otherwise to the
current user, who then also runs dovecot's internal processes.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from responder.demo.mailsink import free_port

PACKAGE_HINT = (
    "`make test` installs it as root with `apt-get install dovecot-imapd` "
    "(Debian package dovecot-imapd)"
)
CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {internal}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
  default_fields = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    user = {internal}
  }}
  unix_listener stats-writer {{
    user = {internal}
  }}
}}
"""


class Unavailable(Exception):
    """No dovecot can be run here; the message says why, for the skip."""


class DovecotServer:
    def __init__(self, users: dict[str, str]) -> None:
        binary = shutil.which("dovecot") or (
            "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
        )
        if binary is None or not Path("/usr/lib/dovecot/imap").exists():
            raise Unavailable(f"the dovecot IMAP server is not installed: {PACKAGE_HINT}")
        self.binary = binary
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="yuqing-imap-"))
        self.root.chmod(0o755)
        owner = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.getuid())
        self.uid, self.gid = owner.pw_uid, owner.pw_gid
        internal = "dovenull" if os.geteuid() == 0 else owner.pw_name
        (self.root / "users").write_text(
            "".join(f"{name}:{password}::::::\n" for name, password in users.items()),
            encoding="utf-8",
        )
        for sub in ("mail", "home"):
            (self.root / sub).mkdir()
            os.chown(self.root / sub, self.uid, self.gid)
        self.config = self.root / "dovecot.conf"
        self.config.write_text(
            CONFIG.format(
                root=self.root, port=self.port, uid=self.uid, gid=self.gid, internal=internal
            ),
            encoding="utf-8",
        )

    def start(self) -> DovecotServer:
        # The daemon keeps inherited pipes open: its errors go to a file instead.
        errors = self.root / "start.err"
        with errors.open("w") as handle:
            done = subprocess.run(
                [self.binary, "-c", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=handle,
                check=False,
            )
        if done.returncode != 0:
            raise Unavailable(f"dovecot did not start: {errors.read_text().strip()[-500:]}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                imaplib.IMAP4("127.0.0.1", self.port, timeout=2).logout()
                return self
            except OSError:
                time.sleep(0.1)
        raise Unavailable(f"dovecot did not answer on port {self.port}: {self.log()[-500:]}")

    def stop(self) -> None:
        subprocess.run(
            [self.binary, "-c", str(self.config), "stop"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (self.root / "run" / "master.pid").exists():
            time.sleep(0.1)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def login(self, user: str, password: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(user, password)
        return imap

    def deliver(self, user: str, password: str, *letters: bytes, folder: str = "INBOX") -> None:
        """Put letters in a folder, as a mail client saving them would (IMAP APPEND)."""
        imap = self.login(user, password)
        try:
            imap.create(folder)  # answers NO when it exists (INBOX always does)
            for raw in letters:
                status, data = imap.append(folder, "", None, raw)
                assert status == "OK", data
        finally:
            imap.logout()

    def flags(self, user: str, password: str, folder: str = "INBOX") -> list[bytes]:
        """Each letter's flags, in order: what a read-only reader must leave alone."""
        imap = self.login(user, password)
        try:
            imap.select(folder, readonly=True)
            status, data = imap.fetch("1:*", "(FLAGS)")
            return [entry for entry in data if isinstance(entry, bytes)]
        finally:
            imap.logout()
