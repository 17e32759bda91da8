"""Throw-away single-node SLURM cluster for tests (wraps tests/slurm/cluster.sh).

Use from conftest.py, e.g.::

    from tests.slurm_cluster import slurm_cluster

    @pytest.fixture(scope="session")
    def slurm():
        with slurm_cluster() as cluster:
            yield cluster

and in a test::

    proc = subprocess.run(
        ["snakemake", "--profile", str(cluster.profile), ...],
        env={**os.environ, **cluster.env}, capture_output=True, text=True,
    )
    ids = cluster.job_ids_from(proc.stdout + proc.stderr)
    assert ids and set(cluster.job_states(ids).values()) == {"COMPLETED"}

The cluster is skipped (pytest.skip) when not running as root, when SLURM is
missing and cannot be installed (no apt-get, or apt-get fails), or when
COLORLIB_SKIP_SLURM=1.  ``cluster.sh stop`` always runs on exit, also when
the body raises or start-up fails half-way.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CLUSTER_SH = REPO / "tests" / "slurm" / "cluster.sh"
PROFILE = REPO / "workflow" / "profiles" / "slurm"
DEFAULT_TEST_DIR = "/tmp/colorlib-slurm"

# snakemake-executor-plugin-slurm 2.8 logs, per submitted job:
#   Job 3 has been submitted with SLURM jobid 11 (log: /…/.snakemake/slurm_logs/rule_work/b/11.log).
_JOB_ID_RE = re.compile(r"submitted with SLURM jobid (\d+)")


@dataclass(frozen=True)
class SlurmCluster:
    """Handle on a running test cluster."""

    env: dict[str, str]
    """Variables to add to the environment of snakemake/sbatch/squeue calls:
    SLURM_CONF, and PATH with the srun shim directory first (see cluster.sh).
    Use as ``env={**os.environ, **cluster.env}``."""
    test_dir: Path
    conf: Path
    profile: Path = PROFILE
    partition: str = "debug"

    @staticmethod
    def job_ids_from(text: str | Path) -> list[str]:
        """SLURM job ids, in submission order, from snakemake's output or log
        file (text, or a path to .snakemake/log/*.snakemake.log)."""
        if isinstance(text, Path):
            text = text.read_text(errors="replace")
        return _JOB_ID_RE.findall(text)

    @staticmethod
    def job_ids_from_logs(workdir: str | Path) -> list[str]:
        """Job ids from the plugin's per-job logs,
        <workdir>/.snakemake/slurm_logs/rule_<rule>/<wildcards>/<jobid>.log
        (kept because the profile sets slurm-keep-successful-logs)."""
        logs = Path(workdir, ".snakemake", "slurm_logs")
        return sorted((p.stem for p in logs.rglob("*.log")), key=int)

    def job_states(self, job_ids: list[str]) -> dict[str, str]:
        """{job id: state} from squeue (finished jobs stay visible for
        MinJobAge=3600 s; there is no accounting, so no sacct)."""
        if not job_ids:
            return {}
        out = subprocess.run(
            ["squeue", "-h", "-t", "all", "-j", ",".join(job_ids), "-o", "%i %T"],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
        return dict(line.split(None, 1) for line in out.splitlines() if line.strip())


def _run(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(CLUSTER_SH), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _tail(proc: subprocess.CompletedProcess, n: int = 30) -> str:
    lines = (proc.stdout + proc.stderr).splitlines()
    return "\n".join(lines[-n:])


@contextlib.contextmanager
def slurm_cluster(test_dir: str | os.PathLike | None = None) -> Iterator[SlurmCluster]:
    """Install (if needed) and start the test cluster; yield a SlurmCluster;
    always stop the daemons afterwards."""
    if os.environ.get("COLORLIB_SKIP_SLURM") == "1":
        pytest.skip("COLORLIB_SKIP_SLURM=1")
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("SLURM test cluster needs root (SlurmUser=root)")
    if shutil.which("bash") is None:
        pytest.skip("bash not available")

    test_dir = Path(test_dir or os.environ.get("SLURM_TEST_DIR") or DEFAULT_TEST_DIR)
    script_env = {**os.environ, "SLURM_TEST_DIR": str(test_dir)}

    have_slurm = all(
        shutil.which(p, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
        for p in ("slurmctld", "slurmd", "sbatch", "munged")
    )
    if not have_slurm:
        if shutil.which("apt-get") is None:
            pytest.skip("SLURM not installed and apt-get not available")
        try:
            proc = _run(["install"], script_env, timeout=900)
        except subprocess.TimeoutExpired:
            pytest.skip("installing slurm-wlm/munge with apt-get timed out")
        if proc.returncode != 0:
            pytest.skip(f"installing slurm-wlm/munge failed:\n{_tail(proc)}")

    try:
        try:
            proc = _run(["start"], script_env, timeout=180)
        except subprocess.TimeoutExpired:
            pytest.fail("tests/slurm/cluster.sh start timed out", pytrace=False)
        if proc.returncode != 0:
            pytest.fail(f"tests/slurm/cluster.sh start failed:\n{_tail(proc, 60)}", pytrace=False)

        conf = test_dir / "etc" / "slurm.conf"
        shim_dir = str(test_dir / "bin")
        path = os.environ.get("PATH", "")
        if shim_dir not in path.split(os.pathsep):
            path = shim_dir + os.pathsep + path
        env = {"SLURM_CONF": str(conf), "PATH": path}
        yield SlurmCluster(
            env=env,
            test_dir=test_dir,
            conf=conf,
            partition=os.environ.get("SLURM_TEST_PARTITION", "debug"),
        )
    finally:
        try:
            stop = _run(["stop"], script_env, timeout=120)
            if stop.returncode != 0:
                print(f"warning: tests/slurm/cluster.sh stop failed:\n{_tail(stop)}")
        except subprocess.TimeoutExpired:
            print("warning: tests/slurm/cluster.sh stop timed out")
