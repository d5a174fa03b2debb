"""The JSON Schemas of the event contracts (`iris schemas` writes them to schemas/)."""

from __future__ import annotations

import json
from typing import Any

from iris.contracts import EVENT_MODELS


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema for every event model, keyed by its type."""
    schemas = {}
    for model in EVENT_MODELS:
        schema = model.model_json_schema(mode="serialization")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://iris.example/schemas/{model.__name__}.v1.json"
        schemas[model.__name__] = schema
    return schemas


def dumps_schema(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
