"""Reading letters as mail clients write them (`crawlers.letters`), without a server."""

from __future__ import annotations

import base64

from crawlers.letters import header_text, message_url, read_letter


def gb(text: str, label: str = "GB2312") -> str:
    return f"=?{label}?B?{base64.b64encode(text.encode('gbk')).decode('ascii')}?="


def test_gb2312_labelled_subject_with_gbk_characters_is_read() -> None:
    assert header_text(gb("朱镕基同志来信")) == "朱镕基同志来信"


def test_subject_in_several_encoded_words_and_charsets_is_joined() -> None:
    value = gb("统计", "GBK") + " " + "=?utf-8?Q?=E5=B1=80?="

    assert header_text(value) == "统计局"


def test_message_id_becomes_a_mid_url_without_its_brackets() -> None:
    assert message_url(" <a b#c@x.cn> ") == "mid:a%20b%23c@x.cn"
    assert message_url("") == ""


def test_letter_with_a_broken_mime_tree_says_why() -> None:
    raw = (
        b"Message-ID: <x@y>\r\nSubject: hi\r\nContent-Type: multipart/mixed; boundary=Q\r\n\r\n"
        b"text without any boundary\r\n"
    )

    letter = read_letter(raw, "imap://fallback")

    assert letter.url == "mid:x@y"
    assert letter.problem is not None and "MIME" in letter.problem


def test_attachment_is_not_the_letter_and_the_plain_part_wins() -> None:
    raw = (
        b"Subject: t\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xe6\xad\xa3\xe6\x96\x87\r\n"
        b"--B\r\nContent-Type: text/plain; name=a.txt\r\nContent-Disposition: attachment\r\n\r\n"
        b"ATTACHED\r\n--B--\r\n"
    )

    letter = read_letter(raw, "imap://fallback")

    assert (letter.url, letter.text, letter.problem) == ("imap://fallback", "正文", None)


def test_letter_with_neither_subject_nor_text_is_unreadable() -> None:
    assert read_letter(b"From: a@b\r\n\r\n", "imap://x").problem == "没有可读的正文"


def test_unknown_charset_label_falls_back_to_gb18030() -> None:
    raw = b"Subject: t\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n" + "信箱".encode(
        "gb18030"
    )

    assert read_letter(raw, "imap://x").text == "信箱"
