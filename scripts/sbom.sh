#!/usr/bin/env bash
# The image's software bill of materials (CycloneDX JSON): IRIS and exactly the runtime
# packages the Dockerfile installs from requirements.lock, with their versions, hashes and
# package URLs. Usage: scripts/sbom.sh [OUT] (default sbom.cdx.json). The tests run it
# (tests/deploy/test_images.py); CI keeps the file with the image it builds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-sbom.cdx.json}"
cyclonedx-py requirements "$ROOT/requirements.lock" \
  --pyproject "$ROOT/pyproject.toml" \
  --mc-type application \
  --of JSON --sv 1.6 --output-reproducible --validate \
  -o "$out"
