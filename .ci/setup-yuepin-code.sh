#!/usr/bin/env bash
# Installs the external test peers of crates/yuepin-code: zbarimg (QR decoding), python3 with
# pycose/cbor2/cryptography (independent COSE_Sign1 verifier) and GS1 digital-link.js (URI
# validator, into crates/yuepin-code/tests/peers/node_modules). Idempotent. Sourced by .ci/run
# as root on Debian 12 after apt-get update; runs in a subshell so the caller's shell options stay.
(
  set -euo pipefail
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if ! command -v zbarimg >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y zbar-tools
  fi
  if ! python3 -c 'import pycose, cbor2, cryptography' >/dev/null 2>&1; then
    python3 -m pip install --quiet pycose 'cbor2<6' cryptography \
      || python3 -m pip install --quiet --break-system-packages pycose 'cbor2<6' cryptography
  fi
  if [ ! -d "$root/crates/yuepin-code/tests/peers/node_modules/digital-link.js" ]; then
    cd "$root/crates/yuepin-code/tests/peers"
    npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent
  fi
)
