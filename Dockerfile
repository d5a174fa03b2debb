# One image for every IRIS service: `iris api <service>`, `iris worker <service>`,
# `iris migrate <service>`, `iris topics`, `iris republish <service>`.

# --- builder: compilers are here only, to build any dependency without a wheel ---
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/iris
ENV PATH=/opt/iris/bin:$PATH

WORKDIR /src
# The runtime dependencies exactly as locked (requirements.lock, every file's hash checked),
# in a layer of their own; then IRIS itself without resolving anything again.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY iris ./iris
COPY services ./services
# A regular (not editable) install: the venv holds the code, the migrations and the
# templates; pip and setuptools leave the venv afterwards, they are not needed to run.
# Every module is compiled here, once: the containers run with a read-only root file
# system, so without bytecode in the image each process would compile what it imports
# at every start (seconds of CPU: importing the access and viewer APIs and the viewer
# worker took 6.5 s compiled at start against 2.7 s from bytecode). Unchecked hashes:
# the image never changes under them, so Python reads them without looking at the
# sources' times.
RUN pip install --no-cache-dir --no-deps . \
    && pip check \
    && pip uninstall -y pip setuptools wheel \
    && find /opt/iris -name '__pycache__' -type d -prune -exec rm -rf {} + \
    && python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/iris/lib

# --- runtime: the slim base and the venv, nothing else ---
FROM python:3.11-slim AS runtime

# the project version (pyproject.toml), which is also the image's default tag
ARG IRIS_VERSION=0.1.0
ARG VCS_REF=unknown
LABEL org.opencontainers.image.title="iris" \
      org.opencontainers.image.description="IRIS: schools see the current special-needs report of the pupils enrolled with them" \
      org.opencontainers.image.version="${IRIS_VERSION}" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.licenses="EUPL-1.2" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim"

ENV PATH=/opt/iris/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    IRIS_ENV=production \
    IRIS_DATA_DIR=/var/lib/iris

RUN groupadd --system --gid 10001 iris \
    && useradd --system --no-log-init --uid 10001 --gid iris --home-dir /var/lib/iris iris \
    && mkdir -p /var/lib/iris \
    && chown iris:iris /var/lib/iris

COPY --from=builder /opt/iris /opt/iris

USER 10001:10001
WORKDIR /var/lib/iris
EXPOSE 8101 8102 8103 8104 9100

# Each long-running container names its own probe URL in IRIS_HEALTH_URL
# (an API's /healthz, a worker's metrics port /healthz); one-shot jobs have none.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["iris", "probe"]

ENTRYPOINT ["iris"]
CMD ["--help"]
