"""The services of the platform and where each keeps its parts.

Every service package follows the same layout, so tooling finds its parts by
convention: `api.create_app()`, an optional faust `worker.app`, Alembic
`migrations/`, and `republish.republish(settings)`.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iris.settings import SERVICE_PORTS


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int

    @property
    def package(self) -> str:
        return f"services.{self.name}"

    def has(self, module: str) -> bool:
        try:
            return importlib.util.find_spec(f"{self.package}.{module}") is not None
        except ModuleNotFoundError:
            return False

    @property
    def exists(self) -> bool:
        return self.has("api")

    @property
    def has_worker(self) -> bool:
        return self.has("worker")

    @property
    def migrations_dir(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        assert spec is not None and spec.submodule_search_locations
        return Path(next(iter(spec.submodule_search_locations))) / "migrations"

    def load(self, module: str, attribute: str) -> Any:
        return getattr(importlib.import_module(f"{self.package}.{module}"), attribute)


SERVICES: dict[str, ServiceSpec] = {
    name: ServiceSpec(name, port) for name, port in SERVICE_PORTS.items()
}


def available() -> list[ServiceSpec]:
    return [spec for spec in SERVICES.values() if spec.exists]
