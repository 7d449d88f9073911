"""The web app's safety pieces without a browser: private per-session folders, upload copying and
unzipping (names cleaned, traversal and bombs refused, size limit), the ASGI upload limit, text
escaping, worker jobs that cancel, and the command's localhost default."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import threading
import time
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("shiny", reason="the web app needs shiny")

from dermsim.app import _safety, create_app
from dermsim.app._jobs import Job
from dermsim.app._safety import SessionFiles, UploadLimit, clean_name
from dermsim.app._ui import html_table, message
from dermsim.errors import InvalidInputError
from dermsim.workflows import Cancelled


def _run(coro: object) -> None:
    """``asyncio.run`` in a thread of its own: in a pytest process that also ran the browser tests,
    Playwright's sync API keeps an event loop running in the main thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()  # type: ignore[arg-type]


def _upload(tmp: Path, name: str, data: bytes) -> dict[str, str]:
    p = tmp / f"shiny-{len(list(tmp.iterdir()))}"
    p.write_bytes(data)
    return {"name": name, "datapath": str(p)}


def test_sessions_have_private_folders_removed_at_the_end(tmp_path: Path) -> None:
    a, b = SessionFiles(), SessionFiles()
    try:
        assert a.root != b.root and a.root.stat().st_mode & 0o777 == 0o700
        d = a.new_dir("adam")
        assert d.parent == a.root and not str(d).startswith(str(b.root))
        assert a.scrub(f"{d}/adsl.xpt: not a readable file") == "adsl.xpt: not a readable file"
    finally:
        a.close()
    assert not a.root.exists() and b.root.exists()
    b.close()


def test_uploaded_names_cannot_leave_the_folder(tmp_path: Path) -> None:
    files = SessionFiles()
    try:
        dest = files.take_uploads(
            [
                _upload(tmp_path, "../../etc/adsl.xpt", b"x"),
                _upload(tmp_path, "C:\\evil\\..\\adae.csv.gz", b"y"),
            ],
            (".xpt", ".csv.gz"),
            "adam",
        )
        assert sorted(p.name for p in dest.iterdir()) == ["adae.csv.gz", "adsl.xpt"]
        assert clean_name("a<b>c?.xpt", "f") == "a_b_c_.xpt"
        assert clean_name("<script>x</script>.xpt", "f") == "script_.xpt"  # the last path part only
        assert clean_name("...", "fallback") == "fallback"
        with pytest.raises(InvalidInputError, match="expected a file ending in"):
            files.take_uploads([_upload(tmp_path, "notes.txt", b"z")], (".xpt",), "adam")
    finally:
        files.close()


def test_zip_members_are_cleaned_and_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../outside/adsl.xpt", b"adsl")
        z.writestr("data/adae.xpt", b"adae")
        z.writestr("define.xml", b"<xml/>")  # not a dataset: skipped
        z.writestr("__MACOSX/._adsl.xpt", b"junk")
    files = SessionFiles()
    try:
        dest = files.take_uploads(
            [_upload(tmp_path, "pilot.zip", buf.getvalue())], (".xpt",), "adam", unzip=True
        )
        assert sorted(p.name for p in dest.iterdir()) == ["adae.xpt", "adsl.xpt"]
        assert not (files.root.parent / "outside").exists()
        # a member larger than the limit (whatever its header says) is refused while copying
        monkeypatch.setattr(_safety, "MAX_UPLOAD_BYTES", 500)
        big = io.BytesIO()
        with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr("adsl.xpt", b"0" * 1000)
        with pytest.raises(InvalidInputError, match="larger than"):
            files.take_uploads([_upload(tmp_path, "big.zip", big.getvalue())], (".xpt",), "adam", unzip=True)
        with pytest.raises(InvalidInputError, match="allowed"):
            files.take_uploads([_upload(tmp_path, "adsl.xpt", b"0" * 501)], (".xpt",), "adam")
        with pytest.raises(InvalidInputError, match="not a readable zip"):
            files.take_uploads([_upload(tmp_path, "x.zip", b"PK no")], (".xpt",), "adam", unzip=True)
    finally:
        files.close()


def test_upload_limit_refuses_large_bodies() -> None:
    seen: list[bytes] = []

    async def app(scope, receive, send):  # the upload handler: reads until the body ends or the client leaves
        while True:
            m = await receive()
            if m["type"] == "http.disconnect":
                seen.append(b"<disconnect>")
                return
            seen.append(m.get("body", b""))
            if not m.get("more_body"):
                return

    sent: list[dict] = []

    async def send(m):
        sent.append(m)

    def run(headers, chunks):
        it = iter(chunks)

        async def receive():
            return next(it)

        scope = {"type": "http", "method": "POST", "path": "/session/abc/upload/def", "headers": headers}
        _run(UploadLimit(app, max_bytes=10)(scope, receive, send))

    run([(b"content-length", b"11")], [])
    assert sent[0]["status"] == 413
    sent.clear()
    run(
        [],
        [
            {"type": "http.request", "body": b"12345678", "more_body": True},
            {"type": "http.request", "body": b"12345678", "more_body": False},
        ],
    )
    assert seen == [b"12345678", b"<disconnect>"] and not sent


def test_user_text_is_escaped() -> None:
    evil = '<img src=x onerror="alert(1)">'
    html = str(message(evil)) + str(html_table([evil], [[evil]]))
    assert "<img" not in html and "&lt;img" in html


def test_jobs_cancel_and_report_one_line() -> None:
    job = Job()
    started = threading.Event()

    def work(j: Job) -> int:
        j.start(100, "counting")
        started.set()
        for _ in range(100):
            time.sleep(0.01)
            j.token.check()
            j.advance()
        return 1

    assert job.run(work, "test")
    started.wait(5)
    job.cancel()
    for _ in range(300):
        if not job.snapshot().running:
            break
        time.sleep(0.01)
    assert job.snapshot().status == "cancelled" and job.result() is None

    def bad(j: Job) -> None:
        raise InvalidInputError("N must be at least 6; got 2.")

    assert job.run(bad, "bad")
    for _ in range(300):
        if not job.snapshot().running:
            break
        time.sleep(0.01)
    assert job.snapshot().status == "error" and job.snapshot().message == "N must be at least 6; got 2."
    assert issubclass(Cancelled, Exception)


def test_create_app_is_an_asgi_shiny_app_and_the_command_defaults_to_localhost() -> None:
    from shiny import App
    from typer.testing import CliRunner

    from dermsim.cli import app as cli
    from dermsim.cli import register_commands

    register_commands()
    a = create_app(warm_up=False)
    assert isinstance(a, App) and isinstance(a.starlette_app, UploadLimit)
    out = CliRunner().invoke(cli, ["app", "--help"], env={"COLUMNS": "200"}).output
    assert "127.0.0.1" in out and "8000" in out


def test_the_app_mounts_in_an_existing_asgi_server() -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    host = Starlette(routes=[Mount("/dermsim", app=create_app(warm_up=False))])
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(m: dict) -> None:
        sent.append(m)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/dermsim/",
        "raw_path": b"/dermsim/",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "http_version": "1.1",
    }
    _run(host(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert sent[0]["status"] == 200 and b"Model explorer" in body and b"dermsim-static/plotly.min.js" in body


def test_the_app_readies_the_compiled_engine_in_the_background(monkeypatch) -> None:
    import threading

    from shiny import App

    from dermsim.model import precompile

    started = threading.Event()
    monkeypatch.setattr(precompile, "warm_up", started.set)
    create_app(warm_up=False)
    assert not started.wait(0.2)
    create_app()
    assert started.wait(10)

    # a failed head start ends its thread quietly (the first run reports for itself); the app is served
    unhandled: list[object] = []
    monkeypatch.setattr(threading, "excepthook", unhandled.append)

    def broken() -> None:
        raise RuntimeError("no compiler")

    monkeypatch.setattr(precompile, "warm_up", broken)
    before = set(threading.enumerate())
    assert isinstance(create_app(), App)
    for thread in set(threading.enumerate()) - before:
        thread.join(10)
    assert unhandled == []
