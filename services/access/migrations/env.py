from iris.db import run_migrations
from services.access.models import Base

run_migrations(Base.metadata, "alembic_version_access")
