#!/usr/bin/env bash
# apt-get install for the project's CI helpers: as root, or through sudo when it is there.
#   bash .ci/apt-install.sh WHO [apt options] PACKAGE...     (WHO names the caller in errors)
# Debian/Ubuntu only.
set -euo pipefail

who="$1"
shift
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "$who: need root (or sudo) to apt-get install $*" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "$@" >/dev/null
