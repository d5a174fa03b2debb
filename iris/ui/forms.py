"""Server-side form validation shown next to each field.

Parse the posted form with a pydantic model; on failure, `errors_by_field`
turns the errors into one translated message per field for the `forms.html`
macros (`errors=errors`):

    try:
        grant = GrantForm.model_validate(dict(await request.form()))
    except ValidationError as exc:
        errors = errors_by_field(exc, request)
        return pages.render(request, "grant.html", {"errors": errors, ...}, status_code=422)

A validator's own message (`raise ValueError(N_("Pick a date after the start date."))`)
is translated through the catalogue; the submitted value is never echoed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from starlette.requests import Request

from iris.insz import insz_digits, typed_insz_problem
from iris.ui.dates import NOT_A_DATE
from iris.ui.i18n import N_, gettext_for

MESSAGES = {
    "missing": N_("This field is required."),
    "string_too_short": N_("This field is required."),
    "string_too_long": N_("This text is too long."),
    "date_parsing": NOT_A_DATE,
    "date_from_datetime_parsing": NOT_A_DATE,
    "date_type": NOT_A_DATE,
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
    "int_parsing": N_("Enter a whole number."),
}
FALLBACK = N_("This value is not valid.")
INSZ_MESSAGES = {
    "missing": N_("Enter a national register number, for example 85.07.30-123.35."),
    "length": N_("A national register number has 11 digits, for example 85.07.30-123.35."),
    "check": N_(
        "The check digits (the last two) do not match the first nine: check the number. "
        "A valid number looks like 85.07.30-123.35."
    ),
}
"""What a page says of a typed national register number that is not one."""
M = TypeVar("M", bound=BaseModel)


def errors_by_field(exc: ValidationError, request: Request) -> dict[str, str]:
    """The first error of each field, in the request's language."""
    gettext = gettext_for(request).gettext
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = ".".join(str(part) for part in error.get("loc", ())) or "form"
        if name in errors:
            continue
        kind = error.get("type", "")
        if kind == "value_error":
            own = str(error.get("ctx", {}).get("error", "")) or FALLBACK
            errors[name] = gettext(own)
        else:
            errors[name] = gettext(MESSAGES.get(kind, FALLBACK))
    return errors


def validated(
    form: type[M], values: Mapping[str, Any], request: Request
) -> tuple[M | None, dict[str, str]]:
    """The posted form, or None and its errors by field."""
    try:
        return form.model_validate(values), {}
    except ValidationError as exc:
        return None, errors_by_field(exc, request)


def page_form(model: type[M], name: str, **read: Callable[[Any], Any]) -> type[M]:
    """The page's form of an API model: what a page posts besides its fields (the CSRF
    token, the button) is ignored, and each field named in `read` goes through its
    reader first (posted text to the model's value, or the page's own message)."""
    readers = {
        f"_read_{field}": field_validator(field, mode="before")(
            classmethod(lambda cls, value, reader=reader: reader(value))
        )
        for field, reader in read.items()
    }
    namespace = {"model_config": ConfigDict(extra="ignore"), "__module__": model.__module__}
    return cast(type[M], type(name, (model,), {**namespace, **readers}))


def insz_field(value: Any) -> str:
    """A form's INSZ field as typed (dots, dashes, spaces allowed) to its 11 digits, or
    a ValueError with the page's message: what is wrong, and a valid example."""
    typed = str(value or "")
    problem = typed_insz_problem(typed)
    if problem is not None:
        raise ValueError(INSZ_MESSAGES[problem])
    return insz_digits(typed)


def insz_error(typed: str, gettext: Callable[[str], str]) -> str | None:
    """The translated message of `insz_field` for a page that reads the field itself."""
    problem = typed_insz_problem(typed)
    return None if problem is None else gettext(INSZ_MESSAGES[problem])
