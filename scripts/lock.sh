#!/usr/bin/env bash
# Writes requirements.lock, the runtime dependencies of pyproject.toml pinned with their hashes
# from PyPI (pip-compile, from the `release` extra). Run after changing the dependencies; the
# Dockerfile installs from the lock file only.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PIP_FIND_LINKS="" pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
  --no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml
