#!/usr/bin/env bash
# OpenMPI (mpirun and the headers mpi4py compiles against) for deepgrad.distributed and its tests
# (tests/distributed/). Idempotent: does nothing when mpirun and mpicc are already there.
# Debian/Ubuntu (apt-get), run as root or with sudo available.
set -euo pipefail

if command -v mpirun >/dev/null 2>&1 && command -v mpicc >/dev/null 2>&1; then
  echo "mpi-deps: $(mpirun --version 2>/dev/null | head -n 1) already installed"
  exit 0
fi

bash "$(dirname "$0")/apt-install.sh" mpi-deps --no-install-recommends openmpi-bin libopenmpi-dev
mpirun --version | head -n 1
