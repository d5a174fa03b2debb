"""The school responsible's pages: grants, support-network requests, school-software
clients and the audit trail of their school, the school staff's support requests, and
everyone's choice of the e-mail digest.

Server-rendered with the shared look (`iris.ui`); every change is a form with the
session's CSRF token, and every destructive one asks to confirm on a page of its own.
The pages call the same use cases as the JSON API (`services.access.service`), and
their forms are the API's models as a browser posts them.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from iris.settings import Settings
from iris.ui import install_pages
from services.access.bootstrap import SERVICE
from services.access.pages import (
    audit,
    clients,
    frame_origins,
    grants,
    home,
    notifications,
    requests,
    support,
)

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
ROUTERS = [
    home.router,
    grants.router,
    requests.router,
    clients.router,
    frame_origins.router,
    audit.router,
    notifications.router,
]


def install_access_pages(app: FastAPI, settings: Settings) -> None:
    install_pages(app, settings, SERVICE, template_dirs=[TEMPLATES], home=False)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(support.router)
