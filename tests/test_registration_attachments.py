"""登记舆情 with attachments: a photo of a letter, a recording, a PDF sent with the form or
`yuqing add --attach`, kept with the mention, listed and downloadable on its page by any
signed-in role, each addition and download audited; a file too large, of a kind not taken, or
one too many refuses the whole registration in Chinese (the page) or English (the command
line), and nothing is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from responder.cli import app
from responder.db import Database
from responder.intake.attachments import CONTENT_TYPES, MAX_FILES, safe_name, sniff
from responder.labels import label
from responder.models import AuditEntry, Mention, MentionAttachment
from tests.test_registration import CALL
from tests.webclient import client_as, csrf, ensure_user

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"
AMR = b"#!AMR\n" + b"\x3c" * 300  # a phone's call recording
HTML = b"<html><script>alert(1)</script></html>"


def counts(db: Database) -> tuple[int, int]:
    with db.sessions() as session:
        return (
            session.scalar(select(func.count(Mention.id))) or 0,
            session.scalar(select(func.count(MentionAttachment.id))) or 0,
        )


def audit_actions(db: Database) -> list[str]:
    with db.sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_type == "mention")
                .order_by(AuditEntry.id)
            )
        )


def post(client, files, text: str = CALL):  # type: ignore[no-untyped-def]
    token = csrf(client.get("/register").text)
    return client.post(
        "/register",
        data={"csrf_token": token, "channel": "phone", "who": "", "time": "", "text": text},
        files=[("attachments", f) for f in files],
        follow_redirects=False,
    )


def test_files_sent_with_the_form_are_kept_listed_and_downloadable(settings, db):
    duty = client_as(settings, db, "duty", "值班员甲")

    done = post(
        duty,
        [
            ("../../etc/来信照片.jpeg", JPEG, "image/jpeg"),
            ("通话录音.amr", AMR, "application/octet-stream"),
            ("扫描件", PDF, "text/plain"),  # no extension, a wrong claimed type
        ],
    )

    assert done.status_code == 303
    page = duty.get(done.headers["location"])
    assert "附件 3 个已保存" in page.text
    with db.sessions() as session:
        kept = session.scalars(select(MentionAttachment).order_by(MentionAttachment.id)).all()
        assert [(a.filename, a.content_type, a.size, a.added_by) for a in kept] == [
            ("来信照片.jpg", "image/jpeg", len(JPEG), "值班员甲"),
            ("通话录音.amr", "audio/amr", len(AMR), "值班员甲"),
            ("扫描件.pdf", "application/pdf", len(PDF), "值班员甲"),
        ]
        photo = kept[0]
    assert "来信照片.jpg" in page.text and "JPG 图片" in page.text and "AMR 录音" in page.text
    link = f"/mentions/{photo.mention_id}/attachments/{photo.id}"
    assert f'href="{link}"' in page.text
    # A leader reads (and may download) what others registered.
    leader = client_as(settings, db, "leader")
    got = leader.get(link)
    assert got.status_code == 200 and got.content == JPEG
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert (
        leader.get(f"/mentions/{photo.mention_id}/attachments/{photo.id + 99}").status_code == 404
    )
    assert audit_actions(db) == [
        "mention.register",
        "mention.attach",
        "mention.attach",
        "mention.attach",
        "attachment.download",
    ]


def test_a_repeat_adds_its_new_files_to_the_stored_mention_once(settings, db):
    duty = client_as(settings, db, "duty")
    post(duty, [("a.pdf", PDF, "application/pdf")])

    again = post(duty, [("a.pdf", PDF, "application/pdf"), ("b.jpg", JPEG, "image/jpeg")])

    assert again.status_code == 303
    assert counts(db) == (1, 2)


def test_attachments_need_a_signed_in_user(settings, db):
    duty = client_as(settings, db, "duty")
    post(duty, [("a.pdf", PDF, "application/pdf")])
    with db.sessions() as session:
        row = session.scalars(select(MentionAttachment)).one()

    from starlette.testclient import TestClient

    from responder.web import create_app

    anonymous = TestClient(create_app(settings, db)).get(
        f"/mentions/{row.mention_id}/attachments/{row.id}", follow_redirects=False
    )
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ([("page.html", HTML, "image/png")], "类型不支持"),
        ([("大录音.mp3", b"ID3" + b"\x00" * 1_100_000, "audio/mpeg")], "超过 1 MB 的上限"),
        ([("empty.jpg", b"", "image/jpeg")], "是空文件"),
        ([(f"{n}.pdf", PDF, "application/pdf") for n in range(MAX_FILES + 1)], "附件最多"),
    ],
)
def test_a_bad_file_refuses_the_form_in_chinese_and_stores_nothing(settings, db, files, reason):
    small = settings.model_copy(
        update={"limits": settings.limits.model_copy(update={"attachment_mb": 1})}
    )
    duty = client_as(small, db, "duty")

    refused = post(duty, files)

    assert refused.status_code == 400
    assert reason in refused.text and CALL in refused.text
    assert counts(db) == (0, 0)
    assert audit_actions(db) == []


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_yuqing_add_attaches_files_and_refuses_bad_ones_storing_nothing(
    settings, db, tmp_path: Path
):
    ensure_user(db, "值班员甲", "duty")
    scan, script = tmp_path / "来信.pdf", tmp_path / "letter.pdf"
    scan.write_bytes(PDF)
    script.write_bytes(b"#!/bin/sh\nrm -rf /\n")  # named .pdf, is not one

    code, _, err = invoke(
        "add", "--by", "值班员甲", "--text", CALL, "--attach", str(scan), "--attach", str(script)
    )
    assert code == 2
    assert "letter.pdf" in err and "not an image, a PDF or a sound recording" in err
    assert "nothing stored" in err
    assert counts(db) == (0, 0)

    code, out, _ = invoke("add", "--by", "值班员甲", "--text", CALL, "--attach", str(scan))
    assert code == 0 and "1 attachment(s) added" in out
    assert counts(db) == (1, 1)
    code, _, err = invoke(
        "add", "--by", "值班员甲", "--text", CALL, "--attach", str(tmp_path / "missing.jpg")
    )
    assert code == 2 and "cannot read" in err


def test_types_come_from_the_bytes_and_names_lose_their_paths() -> None:
    assert sniff(JPEG) == ("image/jpeg", ".jpg")
    assert sniff(b"\xff\xfb\x90\x00") == ("audio/mpeg", ".mp3")
    assert sniff(b"\x00\x00\x00\x20ftypM4A \x00") == ("audio/mp4", ".m4a")
    assert sniff(b"RIFF\x00\x00\x00\x00WAVEfmt ") == ("audio/wav", ".wav")
    assert sniff(HTML) is None
    assert sniff(b"MZ\x90\x00") is None  # a Windows program
    assert safe_name("C:\\Users\\王\\照片.JPG", ".jpg") == "照片.jpg"
    assert safe_name("a\u202egpj.exe", ".png") == "agpj.exe.png"  # no right-to-left trick
    assert safe_name("..", ".pdf") == "附件.pdf"
    assert len(safe_name("长" * 500 + ".pdf", ".pdf")) == 100


def test_every_kind_taken_has_a_chinese_name() -> None:
    assert all(label("attachment_types", kind) != kind for kind in CONTENT_TYPES)


def test_a_body_over_every_limit_is_refused_before_it_is_read_or_stored(settings, db):
    # attachment_mb 0.1: at most five files of 0.1 MB and a megabyte of fields, 1.5 MB in all.
    small = settings.model_copy(
        update={"limits": settings.limits.model_copy(update={"attachment_mb": 0.1})}
    )
    duty = client_as(small, db, "duty")
    token = csrf(duty.get("/register").text)

    declared = duty.post(
        "/register",
        data={"csrf_token": token, "channel": "phone", "text": CALL},
        files=[("attachments", ("大.pdf", PDF + b"\x00" * 1_600_000, "application/pdf"))],
    )
    assert declared.status_code == 413
    assert "超过 1.5 MB 的上限" in declared.text

    # Sent without a length (chunked): counted as it arrives, refused on the error page.
    def chunks():  # type: ignore[no-untyped-def]
        yield f"csrf_token={token}&channel=phone&text=".encode()
        for _ in range(20):
            yield b"x" * 100_000

    streamed = duty.post(
        "/register",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413
    assert "超过 1.5 MB 的上限" in streamed.text and "<html" in streamed.text
    assert counts(db) == (0, 0)
    assert audit_actions(db) == []

    # Under the limit, the form is read as before.
    assert post(duty, [("信.pdf", PDF, "application/pdf")]).status_code == 303
    assert counts(db) == (1, 1)
