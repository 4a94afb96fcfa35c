"""Launching real MPI jobs from tests: ``mpirun -n N`` on localhost, as a subprocess with a timeout.

Where ``mpirun`` is missing the tests skip, except under CI (``CI=true``),
which must have it (``.ci/mpi-deps.sh`` installs OpenMPI): there a missing
mpirun fails the test instead of hiding it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "scripts"


def mpirun_or_skip() -> str:
    """The mpirun executable (and mpi4py importable); skip locally, fail under CI."""
    found = shutil.which("mpirun")
    problem = None
    if found is None:
        problem = "mpirun is not installed (bash .ci/mpi-deps.sh installs OpenMPI)"
    else:
        try:
            import mpi4py  # noqa: F401
        except ImportError:
            problem = "mpi4py is not installed (pip install -e '.[mpi]')"
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{problem}; CI must run the MPI tests")
        pytest.skip(problem)
    assert found is not None
    return found


def mpi_env() -> dict[str, str]:
    """The environment of a launched job: this source tree first, one BLAS thread per rank,
    and OpenMPI's consent to run as root (CI and the project machines run as root)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    return env


def mpirun_command(n: int, *argv: str) -> list[str]:
    return [mpirun_or_skip(), "-n", str(n), "--oversubscribe", *argv]


def run_mpi(n: int, script: str, *args: str, timeout: float = 120,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    """``mpirun -n n python scripts/<script> args``; fails the test with the job's output on a
    non-zero exit (when ``check``) or when it outlives ``timeout`` seconds."""
    command = mpirun_command(n, sys.executable, str(SCRIPTS / script), *args)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                env=mpi_env(), cwd=ROOT)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{' '.join(command)} ran past {timeout} s (a hang):\n"
                    f"{error.stdout}\n{error.stderr}")
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {result.returncode}:\n"
                    f"{result.stdout}\n{result.stderr}")
    return result


def run_python(script: str, *args: str, timeout: float = 120) -> None:
    """One plain process (no mpirun): the single-process reference runs."""
    command = [sys.executable, str(SCRIPTS / script), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                            env=mpi_env(), cwd=ROOT)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {result.returncode}:\n"
                    f"{result.stdout}\n{result.stderr}")
