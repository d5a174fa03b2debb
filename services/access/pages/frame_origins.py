"""The school responsible's page for the origins that may frame the report for one of the
school's software clients (services/access/client_frames.py keeps them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from services.access import domain, service
from services.access.client_frames import normal_origin, origins_of, set_frame_origins
from services.access.pages.shared import Page, PageDep, SchoolResponsible, form_post

router = APIRouter(include_in_schema=False)
MAX_ORIGINS = 20


def render(
    page: Page, school_id: str, client_id: str, text: str | None, error: str, status: int
) -> HTMLResponse:
    with page.deps.reading() as repo:
        try:
            row = service.client_row(repo, school_id, client_id)
        except domain.AccessRuleBroken as exc:
            raise HTTPException(404, "client_id: no such client") from exc
        name, current = row.name, origins_of(row)
    values: dict[str, Any] = {
        "client_id": client_id,
        "client_name": name,
        "origins_text": "\n".join(current) if text is None else text,
        "error": error,
        "saved": page.request.query_params.get("saved") == "1",
    }
    return page.render("access_frame_origins.html", school_id, "clients", values, status)


@router.get("/schools/{school_id}/clients/{client_id}/frame-origins", response_class=HTMLResponse)
def frame_origins_page(
    page: PageDep, school_id: str, client_id: str, _actor: SchoolResponsible
) -> HTMLResponse:
    """Where this school software may show the report in a frame."""
    return render(page, school_id, client_id, None, "", 200)


@form_post(router, "/schools/{school_id}/clients/{client_id}/frame-origins")
async def save_frame_origins(
    request: Request, page: PageDep, school_id: str, client_id: str, actor: SchoolResponsible
) -> Response:
    text = str((await request.form()).get("origins", ""))
    _ = page.gettext
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    try:
        origins = [normal_origin(line) for line in lines]
    except ValueError:
        error = _("Give one address per line, such as https://school.example (https only).")
        return await run_in_threadpool(render, page, school_id, client_id, text, error, 422)
    if len(origins) > MAX_ORIGINS:
        error = _("Give at most 20 addresses.")
        return await run_in_threadpool(render, page, school_id, client_id, text, error, 422)
    try:
        await run_in_threadpool(
            page.deps.store.write,
            lambda s: set_frame_origins(s, school_id, client_id, origins, actor),
        )
    except domain.AccessRuleBroken as exc:
        raise HTTPException(404, "client_id: no such client") from exc
    return RedirectResponse(
        f"/schools/{school_id}/clients/{client_id}/frame-origins?saved=1", status_code=303
    )
