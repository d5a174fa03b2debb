import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from iris.contracts import (
    ENROLMENT_SUBMITTED,
    TOPICS,
    EnrolmentRegistered,
    describe_error,
)
from iris.event_schemas import dumps_schema, json_schemas
from iris.insz import make_insz

PUPIL = make_insz("2013-05-06", 12)


def registration(**overrides):
    value = {
        "type": "EnrolmentRegistered",
        "schema_version": 1,
        "event_id": "6b0a3f8e-6f3e-4a43-9d0b-4c6f5b0f6a11",
        "occurred_at": "2026-09-01T08:00:00Z",
        "pupil_id": PUPIL,
        "school_id": "12345",
        "start_date": "2026-09-01",
        "source": "test",
    }
    value.update(overrides)
    return json.dumps(value)


def test_a_valid_submission_parses_into_its_typed_event():
    event = ENROLMENT_SUBMITTED.parse(registration())
    assert isinstance(event, EnrolmentRegistered)
    assert event.start_date.isoformat() == "2026-09-01"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"pupil_id": "12345678901"}, "pupil_id"),
        ({"school_id": "12-34"}, "school_id"),
        ({"start_date": "01/09/2026"}, "start_date"),
        ({"schema_version": 2}, "schema_version"),
        ({"end_date": "2026-08-01"}, "end_date"),
    ],
)
def test_an_invalid_submission_is_refused_naming_the_field(overrides, field):
    with pytest.raises(ValidationError) as caught:
        ENROLMENT_SUBMITTED.parse(registration(**overrides))
    assert field in describe_error(caught.value)


def test_an_unknown_event_type_is_refused():
    with pytest.raises(ValidationError) as caught:
        ENROLMENT_SUBMITTED.parse(registration(type="EnrolmentDeleted"))
    assert "EnrolmentDeleted" in describe_error(caught.value)


def test_unknown_fields_are_ignored_so_producers_may_add_fields():
    event = ENROLMENT_SUBMITTED.parse(registration(class_group="3B"))
    assert isinstance(event, EnrolmentRegistered)


def test_every_topic_names_its_value_contract():
    assert {t.name for t in TOPICS} == {
        "iris.enrolment.submitted",
        "iris.enrolment.rejected",
        "iris.enrolment.changes",
        "iris.report.changes",
        "iris.access.grants",
        "iris.access.support-requests",
        "iris.viewer.audit",
        "iris.viewer.rejected",
    }


def test_the_checked_in_json_schemas_match_the_models():
    folder = Path(__file__).resolve().parents[2] / "schemas"
    for name, schema in json_schemas().items():
        assert (folder / f"{name}.v1.json").read_text() == dumps_schema(schema), name
