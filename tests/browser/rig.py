"""The browser test rig: Debian's Chromium driven by Playwright, servers on real ports,
axe-core for accessibility, and a screenshot per step."""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from tests.support import wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING_IMPACTS = ("serious", "critical")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app: FastAPI, port: int) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1:`port` in a thread for the block."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=20, message=f"server on port {port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


WATERMARK = ".watermark"
"""The report's watermark, left out of the checks: decoration hidden from assistive
technology, whose text WCAG 1.4.3 exempts from contrast (it is faint on purpose)."""


def axe_violations(page: Any, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[dict[str, Any]]:
    """Inject axe-core into the page, run WCAG 2.1 A/AA rules, return violations of `impacts`."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text())
    result = page.evaluate(
        "async ([tags, skip]) => "
        "await axe.run({exclude: [[skip]]}, {runOnly: {type: 'tag', values: tags}})",
        [AXE_TAGS, WATERMARK],
    )
    return [v for v in result["violations"] if v.get("impact") in impacts]


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n.get("target")) for n in v.get("nodes", [])[:5])
        for v in violations
    )


# With IRIS_SCREENSHOTS=1, the steps of a walk made as one role are also kept, numbered
# per role across the run, under test-artifacts/screenshots/<role>/ (committed).
SCREENSHOTS = os.environ.get("IRIS_SCREENSHOTS") == "1"
_role_counts: dict[str, int] = {}


class Steps:
    """Saves a numbered screenshot per step under the test run's artefacts."""

    def __init__(self, page: Any, folder: Path, role: str | None = None) -> None:
        self.page = page
        self.folder = folder
        self.role = role
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> Path:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        path = self.folder / f"{self.count:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        if SCREENSHOTS and self.role:
            number = _role_counts[self.role] = _role_counts.get(self.role, 0) + 1
            kept = self.folder.parents[1] / "screenshots" / self.role / f"{number:02d}-{slug}.png"
            kept.parent.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(kept), full_page=True)
        return path


def printed_text(page: Any) -> str:
    """The text of the page as Chromium prints it to PDF."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(page.pdf()))
    return "\n".join(p.extract_text() or "" for p in reader.pages)


def chromium_available() -> bool:
    return os.access(CHROMIUM, os.X_OK)
