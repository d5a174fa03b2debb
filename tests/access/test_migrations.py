from __future__ import annotations

from collections.abc import Callable

from alembic import command

from iris.db import alembic_config, upgrade
from iris.settings import Settings
from tests.access.conftest import MIGRATIONS


def test_the_migrations_build_exactly_the_tables_the_models_describe(
    make_settings: Callable[..., Settings],
):
    url = make_settings("access", migrated=False).database_url_for("access")
    upgrade(MIGRATIONS, url)
    command.check(alembic_config(MIGRATIONS, url))
