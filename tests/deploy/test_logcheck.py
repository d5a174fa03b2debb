"""The log checker the deployment and end-to-end tests share."""

from __future__ import annotations

import json

from tests.logcheck import check_log_lines

GOOD = json.dumps({"ts": "2026-01-01T00:00:00Z", "level": "info", "service": "s", "msg": "m"})


def test_json_lines_with_the_common_keys_pass() -> None:
    problems = check_log_lines([GOOD, "", GOOD])
    assert problems.ok
    assert problems.lines_read == 2


def test_a_plain_text_line_a_line_without_keys_and_a_leak_are_each_reported() -> None:
    leaked = json.dumps({"ts": "t", "level": "info", "service": "s", "msg": "needs: dyslexia"})
    problems = check_log_lines(
        [GOOD, "Traceback (most recent call last):", json.dumps({"msg": "x"}), leaked],
        forbidden=["dyslexia"],
    )
    assert not problems.ok
    assert len(problems.not_json) == 1
    assert len(problems.missing_keys) == 1
    assert problems.leaks == ["log:4: forbidden text #0"]


def test_the_summary_never_repeats_the_forbidden_text() -> None:
    line = json.dumps({"ts": "t", "level": "info", "service": "s", "msg": "secret-advice"})
    problems = check_log_lines([line, "plain text: secret-advice"], forbidden=["secret-advice"])
    assert len(problems.leaks) == 2 and len(problems.not_json) == 1
    assert "secret-advice" not in problems.summary()
