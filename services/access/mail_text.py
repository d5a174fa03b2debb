"""The words of the e-mail digest (services/access/notifications.py): Dutch first, then
English, from the shared catalogues (iris/ui/locale). A line is a message and its values:
counts, institution numbers, dates and links, nothing else."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from iris.settings import Settings
from iris.ui.i18n import N_, translations

Line = tuple[str, dict[str, Any]]  # a message to translate, and its values

ACCESS_REQUESTS_WAIT = N_(
    "%(count)s access request(s) wait for your decision at school %(school)s: %(link)s"
)
SUPPORT_REQUESTS_WAIT = N_(
    "%(count)s support request(s) wait for your decision at school %(school)s: %(link)s"
)
GRANT_ENDS = N_(
    "Your access at school %(school)s ends on %(day)s; ask your support network to request "
    "it again if you still need it: %(link)s"
)
REPORTS_NEW = N_(
    "%(count)s pupil(s) at school %(school)s have a report that is new for you to see: %(link)s"
)
SUBJECT = N_("IRIS: there is something for you to see")
HELLO = N_("Hello,")
IN_IRIS = N_("In IRIS:")
FOOTER = N_("Sign in to IRIS to see more. You can stop these e-mails in IRIS:")
LANGUAGES = ("nl", "en")


def _text(language: str, lines: tuple[Line, ...], stop_link: str) -> list[str]:
    _ = translations(language).gettext
    body = [_(HELLO), "", _(IN_IRIS), ""]
    body += [f"- {_(text) % values}" for text, values in lines]
    return [*body, "", _(FOOTER), stop_link]


def message(settings: Settings, to: str, lines: tuple[Line, ...]) -> EmailMessage:
    """The digest as an e-mail, in Dutch and then in English."""
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = to
    mail["Subject"] = " / ".join(translations(lang).gettext(SUBJECT) for lang in LANGUAGES)
    stop_link = f"{settings.access_url.rstrip('/')}/me/notifications"
    parts = [_text(language, lines, stop_link) for language in LANGUAGES]
    mail.set_content("\n".join([*parts[0], "", "----", "", *parts[1]]))
    return mail
