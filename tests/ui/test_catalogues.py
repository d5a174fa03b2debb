"""Every text shown has a Dutch translation, and the compiled catalogues match their sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from iris.ui.i18n import LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]


def extracted_messages() -> set[str]:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        for part in message if isinstance(message, tuple) else (message,):
            if part:
                found.add(part)
    return found


def catalogue(language: str, suffix: str):
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"messages.{suffix}"
    with path.open("rb") as f:
        return read_po(f, locale=language) if suffix == "po" else read_mo(f)


def test_the_templates_and_code_use_messages_from_the_catalogue():
    messages = extracted_messages()
    assert "Sign in" in messages
    assert "Skip to main content" in messages


def test_every_message_in_the_templates_and_code_has_a_dutch_translation():
    dutch = {m.id: m.string for m in catalogue("nl", "po") if m.id}
    untranslated = sorted(m for m in extracted_messages() if not dutch.get(m))
    assert untranslated == [], "translate these in nl messages.po (scripts/messages): " + repr(
        untranslated
    )


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_compiled_catalogue_matches_its_source(language):
    source = {m.id: m.string for m in catalogue(language, "po") if m.id and not m.fuzzy}
    compiled = {m.id: m.string for m in catalogue(language, "mo") if m.id}
    translated = {k: v for k, v in source.items() if v and (not isinstance(v, tuple) or all(v))}
    assert compiled == translated, "run scripts/messages to compile the catalogues"
