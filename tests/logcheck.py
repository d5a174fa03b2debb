"""Checks on the JSON-line logs that services write (reused by the end-to-end tests)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED_KEYS = ("ts", "level", "service", "msg")


@dataclass
class LogProblems:
    lines_read: int = 0
    not_json: list[str] = field(default_factory=list)
    missing_keys: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.not_json or self.missing_keys or self.leaks)

    def summary(self) -> str:
        parts = [f"{self.lines_read} lines read"]
        for name in ("not_json", "missing_keys", "leaks"):
            found = getattr(self, name)
            if found:
                parts.append(f"{len(found)} {name.replace('_', ' ')}, e.g. {found[:3]!r}")
        return "; ".join(parts)


def check_log_lines(
    lines: Iterable[str], forbidden: Iterable[str] = (), where: str = "log"
) -> LogProblems:
    """Every non-empty line must be a JSON object with the common keys and none of `forbidden`.

    `forbidden` holds text that must never reach a log: report content, tokens.
    A leak is reported by its position only, so the failure message repeats nothing private.
    """
    secrets = [s for s in forbidden if s]
    problems = LogProblems()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        problems.lines_read += 1
        place = f"{where}:{number}"
        leaked = [index for index, secret in enumerate(secrets) if secret in line]
        problems.leaks += [f"{place}: forbidden text #{index}" for index in leaked]
        try:
            record = json.loads(line)
        except ValueError:
            shown = "(withheld: it holds forbidden text)" if leaked else line[:120]
            problems.not_json.append(f"{place}: {shown}")
            continue
        if not isinstance(record, dict):
            problems.not_json.append(f"{place}: not an object")
            continue
        missing = [k for k in REQUIRED_KEYS if k not in record]
        if missing:
            problems.missing_keys.append(f"{place}: {missing}")
    return problems


def check_log_files(paths: Iterable[Path], forbidden: Iterable[str] = ()) -> LogProblems:
    """`check_log_lines` over several files, added up."""
    secrets = list(forbidden)
    total = LogProblems()
    for path in paths:
        found = check_log_lines(
            path.read_text(errors="replace").splitlines(), secrets, where=path.name
        )
        total.lines_read += found.lines_read
        total.not_json += found.not_json
        total.missing_keys += found.missing_keys
        total.leaks += found.leaks
    return total
