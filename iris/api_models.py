"""The two kinds of model of the services' JSON APIs, each configured once."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Body(BaseModel):
    """A request body: a field the API does not know is refused (422 naming it), never
    silently dropped, so a misspelt field cannot pass for an omitted one."""

    model_config = ConfigDict(extra="forbid")


class FromRow(BaseModel):
    """An answer read from the attributes of a stored row or a domain object."""

    model_config = ConfigDict(from_attributes=True)
