"""`mailbox` sources against a real IMAP server (dovecot on 127.0.0.1, `tests/dovecot.py`),
crawled as `yuqing crawl` crawls (`python -m crawlers` in a subprocess).

The letters are the ones a 局长信箱 receives: UTF-8 and GB2312/GBK, quoted-printable and
base64, HTML-only, one without a Message-ID, and one whose MIME tree is broken.
"""

from __future__ import annotations

import imaplib
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from crawlers.letters import read_letter
from responder import clock
from responder.demo.mailsink import free_port
from tests.crawling import CrawlState, crawl_state, run_crawl, write_sources

USER, PASSWORD = "jzxx", "s3cret-imap"
RELAY = "relay"
ENV = {"YUQING_CRAWL__DOWNLOAD_TIMEOUT": "5", "YUQING_CRAWL__RETRIES": "0"}


def letter(
    message_id: str | None,
    subject: str,
    body: bytes,
    content_type: str = "text/plain; charset=utf-8",
    encoding: str = "8bit",
    sender: str = "=?utf-8?B?546L5aSn5aeQ?= <wang@example.cn>",
    hours_ago: float = 2,
) -> bytes:
    when = format_datetime(clock.now() - timedelta(hours=hours_ago))
    headers = [
        f"From: {sender}",
        "To: jzxx@linjiang.gov.cn",
        f"Subject: {subject}",
        f"Date: {when}",
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}",
        f"Content-Transfer-Encoding: {encoding}",
    ]
    if message_id:
        headers.insert(0, f"Message-ID: <{message_id}>")
    return "\r\n".join(headers).encode("ascii") + b"\r\n\r\n" + body + b"\r\n"


def qp(text: str, charset: str) -> bytes:
    import quopri

    return quopri.encodestring(text.encode(charset))


def b64(text: str, charset: str) -> bytes:
    import base64

    return base64.encodebytes(text.encode(charset))


# 喆 is in GBK but not GB2312: a client labelling GBK text gb2312 must still be read right.
GB_SUBJECT = (
    "=?GB2312?B?"
    + __import__("base64").b64encode("反映普查员代填代报问题（张喆）".encode("gbk")).decode("ascii")
    + "?="
)
LETTERS = {
    "utf8": letter(
        "utf8@mail.example.cn",
        "=?utf-8?B?" + __import__("base64").b64encode("统计数据有疑问".encode()).decode() + "?=",
        qp("我是临江镇居民，对去年人均收入数据有疑问。联系电话13812345678。", "utf-8"),
        encoding="quoted-printable",
    ),
    "gb2312": letter(
        "gb@mail.example.cn",
        GB_SUBJECT,
        b64("普查员没有上门，系统却显示已登记，希望核查。", "gbk"),
        content_type="text/plain; charset=gb2312",
        encoding="base64",
    ),
    "html": letter(
        "html@mail.example.cn",
        "=?gb18030?Q?" + "".join(f"={b:02X}" for b in "网页表单来信".encode("gb18030")) + "?=",
        (
            b"--BOUND\r\nContent-Type: text/html; charset=gb18030\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n"
        )
        + b64(
            "<html><head><style>p{color:red}</style></head><body>"
            "<p>网站留言：统计局窗口态度恶劣。</p></body></html>",
            "gb18030",
        )
        + b"\r\n--BOUND--\r\n",
        content_type='multipart/alternative; boundary="BOUND"',
    ),
    "no-id": letter(None, "no message id", "小区统计员冒充人员索要银行卡号。".encode()),
    "broken": letter(
        "broken@mail.example.cn",
        "broken tree",
        b"no boundary line ever comes\r\n",
        content_type='multipart/mixed; boundary="NEVER-SEEN"',
    ),
}


class ImapProxy:
    """A TCP proxy to the IMAP server that counts the connections and the letter bodies asked
    for through it. With `cut_at`, it drops the connection when the client asks for its
    `cut_at`-th body: the server going away mid-read, deterministically. With `gated`, it
    connects nobody before `gate` is set (several readers held to start together)."""

    def __init__(self, port: int, cut_at: int | None = None, gated: bool = False) -> None:
        self.target, self.cut_at = port, cut_at
        self.gate = threading.Event()
        if not gated:
            self.gate.set()
        self.connections = self.bodies = 0
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        self.gate.wait(60)
        with self._lock:
            self.connections += 1
        server = socket.create_connection(("127.0.0.1", self.target))
        threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()
        self._pipe(client, server, True)

    def _pipe(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                if upstream and (b"BODY.PEEK[]" in data or b"BODY[]" in data):
                    with self._lock:
                        self.bodies += 1
                        cut = self.cut_at is not None and self.bodies >= self.cut_at
                    if cut:
                        break
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def reset(self) -> None:
        with self._lock:
            self.connections = self.bodies = 0

    def close(self) -> None:
        self.listener.close()


def mailbox(name: str, port: int, user: str = USER, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "mailbox",
        "url": f"imap+plain://127.0.0.1:{port}/INBOX",
        "username": user,
        **extra,
    }


def environment(root: Path, passwords: dict[str, str]) -> dict[str, str]:
    secrets = root / "secrets.toml"
    secrets.write_text(
        "[mailbox_passwords]\n" + "".join(f'"{n}" = "{p}"\n' for n, p in passwords.items()),
        encoding="utf-8",
    )
    secrets.chmod(0o600)
    return {**ENV, "YUQING_DATA": str(root / "data"), "YUQING_SECRETS_FILE": str(secrets)}


def append_at_letter_dates(server: Any, user: str, raws: list[bytes]) -> None:
    """APPEND with the letter's own date as its arrival, so SEARCH SINCE follows the test
    clock (`make test-clock` moves it) rather than the machine's."""
    imap = server.login(user, PASSWORD)
    try:
        for raw in raws:
            when = read_letter(raw, "x").published_at or clock.now()
            status, data = imap.append("INBOX", "", imaplib.Time2Internaldate(when), raw)
            assert status == "OK", data
    finally:
        imap.logout()


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    from tests.dovecot import DovecotServer, Unavailable

    try:
        imap = DovecotServer({USER: PASSWORD, RELAY: PASSWORD}).start()
    except Unavailable as exc:
        pytest.skip(f"IMAP tests skipped: {exc}")
    yield imap
    imap.remove()


class World:
    def __init__(self, server: Any, config: Path, env: dict[str, str]) -> None:
        self.server, self.config, self.env = server, config, env
        self.first = run_crawl(config, env=env)
        self.after_first = crawl_state(config, env)
        self.second = run_crawl(config, env=env)
        self.after_second = crawl_state(config, env)


@pytest.fixture(scope="module")
def world(server: Any, tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("mailbox")
    append_at_letter_dates(server, USER, list(LETTERS.values()))
    config = write_sources(
        root / "config",
        [
            mailbox("局长信箱", server.port),
            mailbox("错误口令", server.port, user=RELAY),
        ],
    )
    env = environment(root, {"局长信箱": PASSWORD, "错误口令": "wrong"})
    return World(server, config, env)


def mention(state: CrawlState, subject: str) -> Any:
    found = [m for m in state.mentions.values() if m.title == subject]
    assert len(found) == 1, sorted(m.title for m in state.mentions.values())
    return found[0]


def test_crawl_of_a_mailbox_exits_cleanly(world: World) -> None:
    assert world.first.returncode == 0, world.first.stderr[-3000:]
    assert world.second.returncode == 0, world.second.stderr[-3000:]


def test_every_readable_letter_is_stored_once_under_its_message_id(world: World) -> None:
    state = world.after_first
    ours = [m for m in state.mentions.values() if m.url.startswith(("mid:", "imap:"))]

    assert len(ours) == 4
    assert "mid:utf8@mail.example.cn" in state.mentions
    assert any(m.url.startswith("imap://127.0.0.1:") and ";UID=" in m.url for m in ours)


def test_letter_text_is_decoded_and_personal_data_masked(world: World) -> None:
    stored = mention(world.after_first, "统计数据有疑问")

    assert "人均收入数据有疑问" in stored.text
    assert "13812345678" not in stored.text
    assert stored.author == "王大姐"
    assert stored.outlet == "局长信箱"
    assert stored.published_at is not None


def test_gb2312_subject_holding_gbk_characters_is_read_in_chinese(world: World) -> None:
    stored = mention(world.after_first, "反映普查员代填代报问题（张喆）")

    assert "普查员没有上门" in stored.text


def test_html_only_letter_is_stored_as_text_without_its_style_sheet(world: World) -> None:
    stored = mention(world.after_first, "网页表单来信")

    assert stored.text == "网站留言：统计局窗口态度恶劣。"


def test_letter_with_a_broken_mime_tree_is_recorded_and_set_aside(world: World) -> None:
    run = world.after_first.runs["局长信箱"][0]

    assert "mid:broken@mail.example.cn" not in world.after_first.mentions
    assert world.after_first.seen["mid:broken@mail.example.cn"] == "unreadable"
    assert "mid:broken@mail.example.cn" in (run.error or "")
    assert "MIME" in (run.error or "")
    assert run.stored == 4


def test_second_crawl_stores_nothing_again_and_reads_no_letter_twice(world: World) -> None:
    run = world.after_second.runs["局长信箱"][-1]

    assert len(world.after_second.mentions) == len(world.after_first.mentions)
    assert (run.stored, run.failed, run.found) == (0, 0, 5)
    assert run.fetched == 1  # the folder listing only: no letter body fetched again


def test_reading_leaves_every_letter_unread_on_the_server(world: World) -> None:
    flags = world.server.flags(USER, PASSWORD)

    assert len(flags) == len(LETTERS)
    assert not any(b"\\Seen" in f or b"\\Deleted" in f for f in flags)


def test_wrong_password_fails_the_run_and_never_logs_the_password(world: World) -> None:
    run = world.after_first.runs["错误口令"][0]

    assert run.status == "failed"
    assert "IMAP" in (run.error or "")
    assert "wrong" not in (run.error or "")
    assert PASSWORD not in world.first.stderr + world.second.stderr


def test_server_going_away_mid_read_loses_nothing_and_stores_nothing_twice(
    server: Any, tmp_path: Path
) -> None:
    raws = [
        letter(
            f"relay{i}@mail.example.cn",
            f"letter {i}",
            f"第{i}封来信：普查员入户登记时索要银行卡号，请统计局核查处理。".encode(),
        )
        for i in range(5)
    ]
    append_at_letter_dates(server, RELAY, raws)
    proxy = ImapProxy(server.port, cut_at=3)
    env = environment(tmp_path, {"中转信箱": PASSWORD})
    try:
        config = write_sources(tmp_path / "config", [mailbox("中转信箱", proxy.port, RELAY)])
        first = run_crawl(config, env=env)
        cut = crawl_state(config, env)
        # The server restarts; the next run reads it directly.
        server.stop()
        server.start()
        write_sources(config, [mailbox("中转信箱", server.port, RELAY)])
        second = run_crawl(config, env=env)
        after = crawl_state(config, env)
    finally:
        proxy.close()

    assert first.returncode == 0 and second.returncode == 0, first.stderr[-2000:]
    assert len(cut.mentions) == 2
    assert "连接中断" in (cut.runs["中转信箱"][0].error or "")
    assert sorted(m.title for m in after.mentions.values()) == [f"letter {i}" for i in range(5)]
    assert after.runs["中转信箱"][-1].stored == 3


def test_plain_imap_is_refused_for_a_server_off_loopback(tmp_path: Path) -> None:
    from responder.settings import ConfigError, load_settings

    config = write_sources(
        tmp_path / "config",
        [
            {
                "name": "x",
                "kind": "mailbox",
                "url": "imap+plain://mail.example.cn/INBOX",
                "username": "x",
            }
        ],
    )
    with pytest.raises(ConfigError, match="loopback"):
        load_settings(config, env={})


def test_unused_port_is_recorded_as_failed(tmp_path: Path) -> None:
    env = environment(tmp_path, {"无人信箱": PASSWORD})
    config = write_sources(tmp_path / "config", [mailbox("无人信箱", free_port())])

    done = run_crawl(config, env=env)
    run = crawl_state(config, env).runs["无人信箱"][0]

    assert done.returncode == 0
    assert run.status == "failed"
    assert "无法连接" in (run.error or "")
