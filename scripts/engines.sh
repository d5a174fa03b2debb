# Sourced by scripts/test: the machine's PostgreSQL and Redis for the integration tests, and
# kcat (librdkafka) for the test of a vendor's Kafka client.
# Installs them from Debian's packages when missing (as root), starts them when down, and
# gives the tests a PostgreSQL role with a password (Debian asks for one on TCP).
# IRIS_DATABASE_URL or IRIS_REDIS_URL set by the caller are used as they are.
PG_PORT="${IRIS_TEST_PG_PORT:-5432}"
REDIS_PORT="${IRIS_TEST_REDIS_PORT:-6379}"
TEST_ROLE=iris_test
TEST_PASSWORD=iris_test

engines_install() {
  local missing=()
  command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
  [ -x /usr/bin/redis-server ] || missing+=(redis-server)
  command -v kcat >/dev/null 2>&1 || missing+=(kcat)  # a librdkafka client, as vendors use
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "the integration tests need: ${missing[*]} (Debian: sudo apt-get install ${missing[*]})" >&2
    return 0
  fi
  echo "installing ${missing[*]} from Debian's packages" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

engines_start_postgres() {
  command -v pg_ctlcluster >/dev/null 2>&1 || return 0
  pg_isready -h 127.0.0.1 -p "$PG_PORT" -q 2>/dev/null && return 0
  [ "$(id -u)" -eq 0 ] || return 0
  local version
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$version" ]; then
    version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
    pg_createcluster "$version" main >&2
  fi
  echo "starting PostgreSQL $version" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 100); do pg_isready -h 127.0.0.1 -p "$PG_PORT" -q 2>/dev/null && break; sleep 0.1; done
}

engines_postgres_role() {
  # the role the tests connect as, over TCP with a password, allowed to create databases
  [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null 2>&1 || return 0
  pg_isready -h 127.0.0.1 -p "$PG_PORT" -q 2>/dev/null || return 0
  runuser -u postgres -- psql -q -p "$PG_PORT" -v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEST_ROLE') THEN
    CREATE ROLE $TEST_ROLE LOGIN CREATEDB PASSWORD '$TEST_PASSWORD';
  END IF;
END \$\$;
SQL
}

engines_start_redis() {
  [ -x /usr/bin/redis-server ] || return 0
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
  local dir="${TMPDIR:-/tmp}/iris-test-redis"
  mkdir -p "$dir"
  echo "starting Redis on port $REDIS_PORT" >&2
  /usr/bin/redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir "$dir" --logfile "$dir/redis.log" >&2 || true
  for _ in $(seq 1 100); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
}

engines_install
engines_start_postgres
engines_postgres_role
engines_start_redis
if [ -z "${IRIS_DATABASE_URL:-}" ] && pg_isready -h 127.0.0.1 -p "$PG_PORT" -q 2>/dev/null; then
  export IRIS_DATABASE_URL="postgresql://$TEST_ROLE:$TEST_PASSWORD@127.0.0.1:$PG_PORT/postgres"
fi
if [ -z "${IRIS_REDIS_URL:-}" ] && redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  export IRIS_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/9"
fi
