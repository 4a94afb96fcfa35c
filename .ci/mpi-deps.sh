#!/usr/bin/env bash
# OpenMPI (mpirun and the headers mpi4py compiles against) for deepgrad.distributed and its tests
# (tests/distributed/). Idempotent: does nothing when mpirun and mpicc are already there.
# Debian/Ubuntu (apt-get), run as root or with sudo available.
set -euo pipefail

if command -v mpirun >/dev/null 2>&1 && command -v mpicc >/dev/null 2>&1; then
  echo "mpi-deps: $(mpirun --version 2>/dev/null | head -n 1) already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "mpi-deps: need root (or sudo) to apt-get install openmpi-bin libopenmpi-dev" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends openmpi-bin libopenmpi-dev >/dev/null
mpirun --version | head -n 1
