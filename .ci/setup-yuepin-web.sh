#!/usr/bin/env bash
# Peers for yuepin-web tests: Python's `openapi-spec-validator` checks the generated OpenAPI
# document independently (tests/api/openapi.rs), and axe-core (Deque, MPL-2.0, from npm) runs
# in headless Chromium on every navigation page (tests/api/phone.rs): it is unpacked to
# /usr/local/share/yuepin/axe-core/axe.min.js, where the tests look for it (or
# YUEPIN_AXE_JS). Idempotent; sourced by .ci/run as root on Debian 12 after apt-get update;
# runs in a subshell so the caller's shell options stay.
(
  set -euo pipefail
  if ! command -v python3 >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-pip
  fi
  if ! python3 -c 'import openapi_spec_validator' >/dev/null 2>&1; then
    python3 -m pip install --quiet 'openapi-spec-validator>=0.7' \
      || python3 -m pip install --quiet --break-system-packages 'openapi-spec-validator>=0.7'
  fi
  axe_dir=/usr/local/share/yuepin/axe-core
  if [ ! -s "$axe_dir/axe.min.js" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent 'axe-core@4' >/dev/null)
    tar -xzf "$tmp"/axe-core-*.tgz -C "$tmp"
    mkdir -p "$axe_dir"
    cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$tmp/package/package.json" "$axe_dir/"
    echo "axe-core $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$axe_dir/package.json" | head -n1) in $axe_dir"
  fi
)
