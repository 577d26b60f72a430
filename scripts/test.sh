#!/usr/bin/env bash
# The test command for CI and for a fresh machine: installs what the browser test needs
# (Debian's chromium and chromium-driver, only when the driver is missing), the Python test
# dependencies, then runs pytest with any arguments given (e.g. `bash scripts/test.sh -k junit`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromedriver ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

python -m pip install -q -r requirements-dev.txt
python -m pytest -q "$@"
