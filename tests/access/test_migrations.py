from __future__ import annotations

from collections.abc import Callable

from alembic import command

from iris.db import alembic_config
from iris.settings import Settings
from tests.access.conftest import MIGRATIONS, access_settings


def test_the_migrations_build_exactly_the_tables_the_models_describe(
    make_settings: Callable[..., Settings],
):
    settings = access_settings(make_settings)
    command.check(alembic_config(MIGRATIONS, settings.database_url_for("access")))
