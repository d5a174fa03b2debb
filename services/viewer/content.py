"""Report content for the viewer's page: read from the reports service's internal API,
as the viewer's service identity, and kept a little while in memory."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

import httpx

from services.viewer.reports_token import ServiceToken


class ReportGone(Exception):
    """The reports service no longer serves this version as current."""


class ReportsClient:
    """`GET /internal/reports/{report_id}` of the reports service."""

    def __init__(self, reports_url: str, http: httpx.AsyncClient, token: ServiceToken) -> None:
        self.reports_url = reports_url.rstrip("/")
        self.http = http
        self.token = token

    async def fetch(self, report_id: str) -> dict[str, Any]:
        """The report with its content; ReportGone when it is not current any more,
        httpx.HTTPError, ValueError or TokenUnavailable when the service cannot say."""
        response = await self.http.get(
            f"{self.reports_url}/internal/reports/{report_id}",
            headers={"Authorization": f"Bearer {await self.token()}"},
        )
        if response.status_code == 404:
            raise ReportGone
        if response.status_code == 401:
            self.token.forget()  # refused (a rotated key): the next view fetches anew
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def close(self) -> None:
        await self.http.aclose()


class ContentCache:
    """A small in-process cache of report content, keyed by report id.

    A report version never changes (a new version has a new report id), so content
    fetched once may be shown again; what may change is whether the caller may see it,
    and that is checked in Redis on every request before the cache is consulted. The
    entries are bounded in number and age; they live in memory only and are never
    logged.
    """

    def __init__(self, max_entries: int = 512, max_age_seconds: float = 300.0) -> None:
        self.max_entries = max_entries
        self.max_age_seconds = max_age_seconds
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    def get(self, report_id: str) -> dict[str, Any] | None:
        entry = self._entries.get(report_id)
        if entry is None:
            return None
        if time.monotonic() - entry[0] > self.max_age_seconds:
            del self._entries[report_id]
            return None
        self._entries.move_to_end(report_id)
        return entry[1]

    def put(self, report_id: str, report: dict[str, Any]) -> None:
        if report_id in self._entries:
            self._entries.move_to_end(report_id)
            return
        self._entries[report_id] = (time.monotonic(), report)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
