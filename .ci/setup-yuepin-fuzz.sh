#!/usr/bin/env bash
# cargo-fuzz for the short fuzz run of scripts/test (issue 17 item 11, docs/fuzzing.md).
# Idempotent; sourced by .ci/run as root after apt-get update; runs in a subshell so the
# caller's shell options stay.
(
  set -euo pipefail
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --version 0.13.2
  fi
)
