#!/usr/bin/env bash
# Chromium and its WebDriver for the report's browser test (tests/report/test_report_browser.py).
# Idempotent: does nothing when both are already installed. Debian/Ubuntu (apt-get), run as root
# or with sudo available.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  echo "browser-deps: chromium and chromedriver already installed"
  exit 0
fi

bash "$(dirname "$0")/apt-install.sh" browser-deps chromium chromium-driver
/usr/bin/chromium --version
/usr/bin/chromedriver --version
