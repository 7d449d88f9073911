"""Peak memory of a command and every process it starts, for the benches' memory targets.

``ru_maxrss`` of RUSAGE_CHILDREN is the largest single child's peak, not the peak of a process
tree, and the design command runs a forked worker per core beside its parent. This samples the
proportional set size (PSS: each shared page divided among the processes that map it, so the
copy-on-write pages forked workers share with their parent are counted once) of the process and
all its descendants, summed, and keeps the largest sum. psutil reads /proc/<pid>/smaps_rollup for
it. Sampling every 0.1 s can miss a spike shorter than that; the figure is a floor of the true peak
by at most one interval's growth.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

import psutil

INTERVAL_S = 0.1


def _tree_pss_bytes(root: psutil.Process) -> int:
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass  # a worker that ended between the listing and the read
    return total


def run_with_peak(args: list[str], env: dict[str, str] | None = None, cwd: str | None = None,
                  timeout: float = 1800) -> tuple[float, str, float]:
    """(wall seconds from start to exit, stdout, peak PSS of the process tree in MiB) of ``args``;
    raises with the command's stderr when it fails."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, env={**os.environ, **(env or {})}, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        try:
            root = psutil.Process(proc.pid)
            while not done.is_set():
                peak[0] = max(peak[0], _tree_pss_bytes(root))
                done.wait(INTERVAL_S)
        except psutil.NoSuchProcess:
            return  # the command has ended

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()  # as subprocess.run does: no command left running behind a failed bench
        proc.communicate()
        raise
    finally:
        done.set()
        watcher.join()
    secs = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} ... exited {proc.returncode}: {err[-3000:]}")
    return secs, out, peak[0] / 2**20
