"""Form errors: one translated message per field, tied to its field for screen readers."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import BaseModel, ValidationError, field_validator
from starlette.requests import Request

from iris.ui.forms import errors_by_field
from iris.ui.i18n import N_
from iris.ui.pages import make_environment


class GrantForm(BaseModel):
    person_id: str
    valid_from: dt.date

    @field_validator("person_id")
    @classmethod
    def _eleven_digits(cls, value: str) -> str:
        if not (value.isdigit() and len(value) == 11):
            raise ValueError(N_("This value is not valid."))
        return value


def request_in(language: str) -> Request:
    headers = [(b"accept-language", language.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(
    ("language", "required", "date"),
    [
        (
            "nl",
            "Dit veld is verplicht.",
            "Geef een datum als dag/maand/jaar, bijvoorbeeld 01/09/2026.",
        ),
        (
            "en",
            "This field is required.",
            "Enter a date as day/month/year, for example 01/09/2026.",
        ),
    ],
)
def test_each_field_gets_one_message_in_the_visitors_language(language, required, date):
    with pytest.raises(ValidationError) as caught:
        GrantForm.model_validate({"valid_from": "tomorrow"})
    errors = errors_by_field(caught.value, request_in(language))
    assert errors == {"person_id": required, "valid_from": date}


def test_a_validators_own_message_is_translated_and_the_value_never_echoed():
    with pytest.raises(ValidationError) as caught:
        GrantForm.model_validate({"person_id": "secret-123", "valid_from": "2026-09-01"})
    errors = errors_by_field(caught.value, request_in("nl"))
    assert errors == {"person_id": "Deze waarde is niet geldig."}
    assert "secret-123" not in str(errors)


def test_the_field_macro_ties_the_error_and_hint_to_the_input():
    env = make_environment("nl")
    html = env.from_string(
        '{% import "forms.html" as forms with context %}'
        '{{ forms.field("valid_from", "Vanaf", errors=errors, hint="JJJJ-MM-DD", required=true) }}'
    ).render(errors={"valid_from": "Geef een datum."}, csrf_token="t")
    assert (
        '<label for="field-valid_from">Vanaf <span class="field__required">(verplicht)</span>'
        in html
    )
    assert 'aria-describedby="valid_from-hint valid_from-error"' in html
    assert 'aria-invalid="true"' in html
    assert '<p class="field__error" id="valid_from-error">' in html


def test_the_csrf_macro_carries_the_sessions_token():
    env = make_environment("en")
    html = env.from_string(
        '{% import "forms.html" as forms with context %}{{ forms.csrf() }}'
    ).render(csrf_token="the-token")
    assert html == '<input type="hidden" name="csrf_token" value="the-token">'
