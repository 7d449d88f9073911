"""The HTML report in headless Chromium (Debian ``chromium``), driven through the DevTools protocol:
no console errors or uncaught exceptions, every figure loaded (decoded, non-zero size), and a
screenshot that is not blank."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dermsim.cli import main

pytestmark = [pytest.mark.external, pytest.mark.slow]

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-allow-origins=*",
    "--window-size=1280,2000",
)


class _CDP:
    """A minimal DevTools client over one WebSocket (flat sessions)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            data = json.loads(self.ws.recv(timeout=max(end - time.monotonic(), 0.1)))
            if data.get("id") == self.next_id:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})
            self.events.append(data)
        raise TimeoutError(method)

    def wait_for(self, method: str, session: str, since: int = 0, timeout: float = 60.0) -> dict[str, Any]:
        def hit(ev: dict[str, Any]) -> bool:
            return ev.get("method") == method and ev.get("sessionId") == session

        for ev in self.events[since:]:
            if hit(ev):
                return ev
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            data = json.loads(self.ws.recv(timeout=max(end - time.monotonic(), 0.1)))
            self.events.append(data)
            if hit(data):
                return data
        raise TimeoutError(method)

    def open(self, path: Path) -> tuple[str, str, int]:
        """A new tab showing ``path``, loaded: (target id, session id, index of its first event)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        since = len(self.events)
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        self.wait_for("Page.loadEventFired", session, since)
        return target, session, since

    def errors(self, session: str, since: int) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events[since:]
            if e.get("sessionId") == session
            and (
                e.get("method") == "Runtime.exceptionThrown"
                or (
                    e.get("method") == "Runtime.consoleAPICalled"
                    and e["params"].get("type") in ("error", "assert")
                )
                or (e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error")
            )
        ]

    def evaluate(self, session: str, expression: str) -> Any:
        res = self.send(
            "Runtime.evaluate", {"returnByValue": True, "expression": expression}, session=session
        )
        return res["result"]["value"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "run"
    assert main(["run", "true-ad3", "--n", "100", "--seed", "1", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed; run scripts/install-external.sh")
    pytest.importorskip("websockets.sync.client", reason="websockets (dev dependency) is not installed")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port_file = profile / "DevToolsActivePort"
    end = time.monotonic() + 30
    while not port_file.is_file() and time.monotonic() < end:
        time.sleep(0.1)
    if not port_file.is_file():
        proc.kill()
        pytest.fail("chromium did not open its DevTools port within 30 s")
    port, path = port_file.read_text().split()[:2]
    from websockets.sync.client import connect

    try:
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=20) as ws:
            yield _CDP(ws)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_report_renders_without_errors_and_figures_load(
    run_dir: Path, chromium: _CDP, tmp_path: Path
) -> None:
    cdp = chromium
    target, session, since = cdp.open(run_dir / "report.html")
    info = json.loads(
        cdp.evaluate(
            session,
            """
        JSON.stringify({
          images: Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight]),
          tables: document.querySelectorAll('table.gt_table').length,
          title: document.title})""",
        )
    )
    assert not cdp.errors(session, since)
    assert len(info["images"]) >= 6, info
    assert all(done and w > 100 and h > 100 for done, w, h in info["images"]), info["images"]
    assert info["tables"] >= 10 and "TRuE-AD3" in info["title"]
    png = base64.b64decode(cdp.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"])
    (tmp_path / "report.png").write_bytes(png)
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(png))[..., :3]
    assert pixels.shape[0] > 500 and pixels.shape[1] > 500
    # not blank: text and a coloured header give many shades and some dark pixels
    assert float(np.std(pixels)) > 0.05
    assert float(np.mean(pixels.min(axis=2) < 0.5)) > 0.01
    cdp.send("Target.closeTarget", {"targetId": target})


def test_real_data_variant_renders_too(run_dir: Path, chromium: _CDP, tmp_path: Path) -> None:
    out = tmp_path / "analysis"
    assert main(["analyze", str(run_dir / "adam"), "--out", str(out), "--no-tables", "--report"]) == 0
    target, session, since = chromium.open(out / "report.html")
    state = chromium.evaluate(
        session,
        "[document.images.length, "
        "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0), "
        "document.body.innerText.includes('Model and calibration')]",
    )
    assert state[0] >= 4 and state[1] is True and state[2] is False, state
    assert not chromium.errors(session, since)
    chromium.send("Target.closeTarget", {"targetId": target})
