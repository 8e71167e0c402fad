#!/usr/bin/env bash
# Install what the tests need (Debian's Chromium when no browser is found, redis-server
# and nginx when missing, the Python packages) and run the whole suite: unit, AppTest and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ] && ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM:-}" ]; then
  echo "Installing Debian's chromium for the browser tests..."
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
fi
# The classroom tests run a real Redis and nginx in front of replicas (started by the tests themselves).
missing=""
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || missing="$missing nginx"
if [ -n "$missing" ]; then
  echo "Installing Debian's$missing for the classroom tests..."
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
python -m pip install -q -r requirements-dev.txt
echo "Checking the layers (import-linter, contracts in .importlinter)..."
lint-imports
python -m pytest "$@"
