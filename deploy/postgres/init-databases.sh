#!/bin/sh
# Runs once, when the PostgreSQL data directory is first created: one role and one
# database per IRIS service, each service the owner of its own database only.
# Each password is taken from the service's database URL, mounted as a compose secret
# (/run/secrets/<service>_database_url, postgresql://<service>:<password>@postgres:5432/<service>),
# so it is written once. Use letters and digits in these passwords.
set -eu

password_of() {
  url="$(cat "/run/secrets/$1_database_url")"
  userinfo="${url#*://}"
  userinfo="${userinfo%%@*}"
  printf '%s' "${userinfo#*:}"
}

create() {
  service="$1"
  password="$(password_of "$service")"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="$service" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
}

create enrolment
create reports
create access
create viewer
