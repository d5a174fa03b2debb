#!/bin/sh
# Runs once, when the PostgreSQL data directory is first created: one role and one
# database per IRIS service, each service the owner of its own database only.
# The passwords come from the container's environment (see docker-compose.yml).
set -eu

create() {
  service="$1"
  password="$2"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="$service" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
}

create enrolment "$ENROLMENT_DB_PASSWORD"
create reports "$REPORTS_DB_PASSWORD"
create access "$ACCESS_DB_PASSWORD"
create viewer "$VIEWER_DB_PASSWORD"
