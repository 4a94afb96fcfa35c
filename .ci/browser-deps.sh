#!/usr/bin/env bash
# Chromium and its WebDriver for the report's browser test (tests/report/test_report_browser.py).
# Idempotent: does nothing when both are already installed. Debian/Ubuntu (apt-get), run as root
# or with sudo available.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  echo "browser-deps: chromium and chromedriver already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "browser-deps: need root (or sudo) to apt-get install chromium chromium-driver" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium chromium-driver
/usr/bin/chromium --version
/usr/bin/chromedriver --version
