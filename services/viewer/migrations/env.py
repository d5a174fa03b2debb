from iris.db import run_migrations
from services.viewer.models import Base

run_migrations(Base.metadata, "alembic_version_viewer")
