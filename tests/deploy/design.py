"""What the design page names: the services, the topics, which services consume topics."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def architecture_path() -> Path:
    """The project's design page, docs/ARCHITECTURE.md (or the folder IRIS_DESIGN_DIR names)."""
    candidates = [
        Path(os.environ["IRIS_DESIGN_DIR"]) if os.environ.get("IRIS_DESIGN_DIR") else None,
        ROOT / "docs",
    ]
    for folder in candidates:
        if folder is not None and (folder / "ARCHITECTURE.md").is_file():
            return folder / "ARCHITECTURE.md"
    raise FileNotFoundError("docs/ARCHITECTURE.md not found")


@dataclass(frozen=True)
class Design:
    services: tuple[str, ...]
    consumers: tuple[str, ...]  # services whose "reads" column names topics: they run a worker
    topics: tuple[str, ...]


def _table_after(text: str, heading: str) -> list[list[str]]:
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        stripped = line.strip()
        if rows and not stripped.startswith("|"):
            break
        if stripped.startswith("|") and not set(stripped) <= set("|- "):
            rows.append([cell.strip() for cell in stripped.strip("|").split("|")])
    return rows[1:]  # without the header


@cache
def design() -> Design:
    text = architecture_path().read_text()
    owners = _table_after(text, "## Services and what each owns")
    services = tuple(row[0] for row in owners)
    consumers = tuple(row[0] for row in owners if "iris." in row[3] or "topics" in row[3])
    topic_rows = _table_after(text, "## Topics")
    topics = tuple(m for row in topic_rows for m in re.findall(r"`(iris\.[a-z.-]+)`", row[0]))
    return Design(services, consumers, topics)
