"""One model of a broken rule for every service, free of frameworks so pure domain
modules can raise it.

A rule broken names its `field` (never the submitted value, which may be private), a
stable `code` (pages choose their sentence by it, so rewording the English message
cannot silently change a page), an English `template` with `%(name)s` placeholders and
their `params` (codes, dates, numbers: never submitted text), and the HTTP `status`.
The shared app factory (`iris.web`) answers every one of them the same way:

    {"detail": [{"field": ..., "msg": ...}], "fields": [...]}

and `iris.ui` shows a browser the error page for its status instead.
"""

from __future__ import annotations

from typing import Any


class RuleBroken(ValueError):
    """A request a rule of the service refuses."""

    code = "rule_broken"
    status = 422

    def __init__(
        self,
        field: str | None,
        template: str,
        status: int | None = None,
        *,
        code: str | None = None,
        **params: str | int,
    ) -> None:
        message = template % params if params else template
        super().__init__(message)
        self.field = field
        self.template = template
        self.params = params
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def body(self) -> dict[str, Any]:
        """The JSON answer: the same shape as a request that fails validation."""
        return {
            "detail": [{"field": self.field, "msg": self.message}],
            "fields": [self.field] if self.field else [],
        }


class NotFound(RuleBroken):
    """The thing named by `field` does not exist (or is not the caller's to see)."""

    code = "not_found"
    status = 404
