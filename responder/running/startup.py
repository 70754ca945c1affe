"""Checks before `yuqing demo`, `run` and `web` start anything: the problems people meet in their
first minutes (a port another instance holds, no Chinese font for the charts) become one line in
Chinese and English saying what to change, instead of a traceback from deep inside a server.

A busy port stops the command (exit status 2, as for a configuration error): nothing would work
half-started. A missing font only warns: everything but the chart labels works without it."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from responder.settings import Settings


class StartupProblem(Exception):
    """A problem the person starting yuqing can fix; the message says how, in one line."""


@dataclass(frozen=True)
class Listener:
    """One port a command is about to listen on, and how a person would choose another."""

    host: str
    port: int
    what_zh: str
    what_en: str
    setting: str  # the environment variable (or option) that moves it

    def busy(self) -> StartupProblem:
        return StartupProblem(
            f"{self.what_zh}端口 {self.port} 已被占用（可能已有一个 yuqing 在运行）："
            f"请先停止它，或设置 {self.setting}。"
            f" {self.what_en}port {self.port} is in use (perhaps another yuqing is running): "
            f"stop it first, or set {self.setting}."
        )


def web_listener(host: str, port: int, option: bool = True) -> Listener:
    setting = "YUQING_WEB__PORT / --port" if option else "YUQING_WEB__PORT"
    return Listener(host, port, "网页界面", "Web UI ", setting)


def demo_listeners(settings: Settings) -> list[Listener]:
    """The demo's own servers; port 0 means "any free port", which cannot be busy."""
    found = [
        Listener(
            "127.0.0.1",
            settings.demo.world_port,
            "演示新闻站",
            "Demo news site ",
            "YUQING_DEMO__WORLD_PORT",
        ),
        Listener(
            "127.0.0.1",
            settings.demo.mail_port,
            "演示邮件接收（SMTP）",
            "Demo mail sink (SMTP) ",
            "YUQING_DEMO__MAIL_PORT",
        ),
    ]
    return [listener for listener in found if listener.port]


def in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port (as for a server about to start)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        # Servers set SO_REUSEADDR, so the TIME_WAIT leftovers of an instance that just stopped
        # do not keep them from starting; they must not count as busy here either.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def check_ports(listeners: list[Listener]) -> None:
    for listener in listeners:
        if in_use(listener.host, listener.port):
            raise listener.busy()


def explain_bind_error(exc: OSError, listeners: list[Listener]) -> StartupProblem | None:
    """A port taken between the check and the start (a race) still gets the one-line answer."""
    if exc.errno != errno.EADDRINUSE:
        return None
    for listener in listeners:
        if in_use(listener.host, listener.port):
            return listener.busy()
    return None


def check_font() -> None:
    """Look for the charts' Chinese font now, so a missing one is reported (one line, logged
    by `charts.cjk_font`) among the start-up messages rather than at the first chart."""
    # charts loads matplotlib (about a second); only this check and the reports need it.
    from responder.reports.charts import cjk_font

    cjk_font()
