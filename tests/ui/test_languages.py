"""The language: the switch's cookie, else the browser's preference, else Dutch."""

from __future__ import annotations

import pytest

from iris.ui.i18n import negotiate
from iris.ui.pages import safe_next


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [
        ("", "nl"),
        ("nl-BE,nl;q=0.9,en;q=0.8", "nl"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-BE,fr;q=0.9,en;q=0.5,nl;q=0.4", "en"),
        ("fr-BE", "nl"),
        ("en;q=0.2,nl;q=0.8", "nl"),
        ("en;q=0", "nl"),
        ("en;q=banana", "nl"),
    ],
)
def test_the_browser_preference_picks_dutch_or_english(accept_language, language):
    assert negotiate(accept_language) == language


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/pupils?page=2", "/pupils?page=2"),
        (None, "/"),
        ("https://elsewhere.example/", "/"),
        ("//elsewhere.example/", "/"),
        ("/\\elsewhere.example", "/"),
        ("relative", "/"),
    ],
)
def test_going_back_after_sign_in_never_leaves_the_site(target, expected):
    assert safe_next(target) == expected
