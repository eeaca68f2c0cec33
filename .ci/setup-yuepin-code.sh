#!/usr/bin/env bash
# Installs the external test peers of crates/yuepin-code: zbarimg (QR decode),
# pycose (independent COSE_Sign1 verifier) and GS1 digital-link.js (URI validator).
# Idempotent; sourced by .ci/run as root on Debian 12 after apt-get update.
set -euo pipefail
_yc_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! command -v zbarimg >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y zbar-tools
fi
if ! python3 -c 'import pycose, cbor2, cryptography' >/dev/null 2>&1; then
  python3 -m pip install --quiet pycose 'cbor2<6' cryptography
fi
if [ ! -d "$_yc_root/crates/yuepin-code/tests/peers/node_modules/digital-link.js" ]; then
  (cd "$_yc_root/crates/yuepin-code/tests/peers" && npm install --no-audit --no-fund --silent)
fi
unset _yc_root
set +euo pipefail
