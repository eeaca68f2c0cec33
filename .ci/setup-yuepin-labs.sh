#!/usr/bin/env bash
# Peers for yuepin-labs tests: Python's `icalendar` parses the iCalendar feeds we render.
# Idempotent; sourced by CI as root on Debian 12 (apt-get update already done by the caller).
if ! command -v python3 >/dev/null 2>&1; then
    apt-get install -y --no-install-recommends python3
fi
if ! python3 -c 'import icalendar' >/dev/null 2>&1; then
    if python3 -m pip --version >/dev/null 2>&1; then
        # Debian's system Python is "externally managed" (PEP 668); pyenv/venv Pythons are not.
        python3 -m pip install --quiet 'icalendar>=5' \
            || python3 -m pip install --quiet --break-system-packages 'icalendar>=5'
    fi
fi
if ! python3 -c 'import icalendar' >/dev/null 2>&1; then
    apt-get install -y --no-install-recommends python3-icalendar
fi
python3 -c 'import icalendar; print("yuepin-labs peer: icalendar", icalendar.__version__)'
