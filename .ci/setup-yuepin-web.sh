#!/usr/bin/env bash
# Peer for yuepin-web tests: Python's `openapi-spec-validator` checks the generated OpenAPI
# document independently (tests/api/openapi.rs). Idempotent; sourced by .ci/run as root on
# Debian 12 after apt-get update; runs in a subshell so the caller's shell options stay.
(
  set -euo pipefail
  if ! command -v python3 >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-pip
  fi
  if ! python3 -c 'import openapi_spec_validator' >/dev/null 2>&1; then
    python3 -m pip install --quiet 'openapi-spec-validator>=0.7' \
      || python3 -m pip install --quiet --break-system-packages 'openapi-spec-validator>=0.7'
  fi
)
