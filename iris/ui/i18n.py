"""Languages: Dutch first, English available.

The language is the one chosen with the switch (a cookie), else the best match in
the browser's Accept-Language, else Dutch. Every text is a gettext message whose
msgid is English; `iris/ui/locale/<lang>/LC_MESSAGES/messages.po` translates it
(see `scripts/messages` to extract, update and compile the catalogues).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from starlette.requests import Request

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANGUAGES = {"nl": "Nederlands", "en": "English"}
DEFAULT_LANGUAGE = "nl"
LANGUAGE_COOKIE = "iris_lang"


def N_(message: str) -> str:
    """Marks a message for extraction; translated later, where it is shown."""
    return message


def language_of(request: Request) -> str:
    """The switch's choice, else the browser's preference, else Dutch."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return negotiate(request.headers.get("accept-language", ""))


def negotiate(accept_language: str) -> str:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


@cache
def translations(language: str) -> NullTranslations:
    return Translations.load(str(LOCALE_DIR), [language], DOMAIN)


def gettext_for(request: Request) -> Translations | NullTranslations:
    """The translations of the request's language: `_ = gettext_for(request).gettext`."""
    return translations(language_of(request))
