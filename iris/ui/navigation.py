"""One way around IRIS: the places a person can go, by their roles, for every service's
header and for the start page (the sign-in service's home). Written once here; each
service knows the others' addresses from its settings."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from iris.auth import Principal
from iris.settings import Settings
from iris.ui.i18n import N_, gettext_for

# The name of each service in its pages' header.
SERVICE_NAMES = {
    "issuer": N_("Start"),
    "reports": N_("Issuing reports"),
    "access": N_("Access management"),
    "viewer": N_("Reading reports"),
}


@dataclass(frozen=True)
class Place:
    """One entry of the navigation: where, what it is called, and whether we are there."""

    href: str
    label: str
    service: str
    current: bool = False


@dataclass(frozen=True)
class Navigation:
    """The addresses of the services, and which service is asking."""

    service: str
    start_url: str
    reports_url: str
    access_url: str
    viewer_url: str

    @classmethod
    def of(cls, settings: Settings, service: str) -> Navigation:
        def base(url: str) -> str:
            return url.rstrip("/")

        return cls(
            service,
            base(settings.oidc_issuer),
            base(settings.reports_url),
            base(settings.access_url),
            base(settings.viewer_url),
        )

    def service_name(self, request: Request) -> str:
        name = SERVICE_NAMES.get(self.service)
        return gettext_for(request).gettext(name) if name else ""

    def _entries(self, principal: Principal | None) -> list[tuple[str, str, str, str]]:
        """(service, base, path, label) of every place this person may go."""
        entries = [("issuer", self.start_url, "/", N_("Start"))]
        if principal is None or not principal.is_person:
            return entries
        if principal.clb_staff_of:
            entries.append(("reports", self.reports_url, "/clb/pupils", N_("Find a pupil")))
        if principal.school_admin_of:
            entries.append(("access", self.access_url, "/schools", N_("Manage access")))
        if principal.school_admin_of or not (principal.clb_staff_of or principal.parent_of):
            entries.append(("viewer", self.viewer_url, "/schools", N_("Pupils with a report")))
        if principal.parent_of:
            entries.append(("viewer", self.viewer_url, "/my/views", N_("Your child's report")))
        return entries

    def places(self, request: Request, principal: Principal | None) -> list[Place]:
        """The header's links, this service's own as paths on this site."""
        _ = gettext_for(request).gettext
        here = request.url.path
        places = []
        for service, base, path, label in self._entries(principal):
            ours = service == self.service
            current = ours and (here == path or (path != "/" and here.startswith(path)))
            places.append(Place(path if ours else base + path, _(label), service, current))
        return places

    def tasks(self, request: Request, principal: Principal | None) -> list[Place]:
        """What the start page offers: every place but the start itself."""
        return [p for p in self.places(request, principal) if p.service != "issuer"]
