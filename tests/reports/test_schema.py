import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from iris.db import make_engine, upgrade
from iris.registry import SERVICES
from services.reports.domain import SECTION_MAX_CHARS
from services.reports.models import Base
from tests.reports.conftest import Reports

pytestmark = pytest.mark.integration


def test_the_migrations_build_exactly_the_tables_the_models_describe(make_settings):
    url = make_settings("reports", migrated=False).database_url_for("reports")
    upgrade(SERVICES["reports"].migrations_dir, url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert {"reports", "report_heads", "report_contents", "reports_outbox"} <= set(
                inspect(connection).get_table_names()
            )
            context = MigrationContext.configure(
                connection, opts={"version_table": "alembic_version_reports"}
            )
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_the_openapi_document_explains_level_and_the_section_limit(reports: Reports):
    schema = reports.client.get("/openapi.json").json()["components"]["schemas"]
    level = schema["ReportIn"]["properties"]["level"]
    assert level["anyOf"][0]["enum"] == ["nursery", "primary", "secondary"]
    assert "secondary" in level["description"]
    assert schema["ContentIn"]["properties"]["needs"]["maxLength"] == SECTION_MAX_CHARS
    paths = reports.client.get("/openapi.json").json()["paths"]
    assert {
        "/v1/pupils/{pupil_id}/reports",
        "/v1/reports/{report_id}/withdraw",
        "/internal/reports/{report_id}",
    } <= set(paths)
