#!/usr/bin/env bash
# Test peers for yuepin-complaints: R with the `surveillance` package (oracle for EARS C1–C3 and
# Farrington-flexible). Idempotent; runs as root on Debian 12 after `apt-get update`.
set -euo pipefail
if ! Rscript -e 'suppressMessages(library(surveillance))' >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends r-base-core r-cran-surveillance
fi
