"""Run a command and measure it with every process it starts: wall time, CPU, peak RSS.

CPU comes from ``getrusage(RUSAGE_CHILDREN)`` deltas, exact for every descendant that is
waited for. This process makes itself a child subreaper (Linux ``PR_SET_CHILD_SUBREAPER``), so
helpers the command leaves behind (a multiprocessing forkserver and its workers) are re-parented
here and reaped, and their CPU counts too. Peak RSS is sampled from ``/proc`` every
``interval`` seconds: the RSS of the main process, and the PSS (shared pages split among the
processes that share them; RSS where the kernel has no ``smaps_rollup``) summed over the whole
process tree; the main
process's own CPU is sampled too (up to ``interval`` short). Linux only.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Usage", "run_watched", "tree_pss"]

_PR_SET_CHILD_SUBREAPER = 36
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class Usage:
    """What one command cost. ``cpu`` is user + system seconds of all its processes."""

    wall: float
    cpu: float
    peak_rss_main: int
    peak_pss_tree: int
    cpu_main: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.wall + other.wall,
            self.cpu + other.cpu,
            max(self.peak_rss_main, other.peak_rss_main),
            max(self.peak_pss_tree, other.peak_pss_tree),
            self.cpu_main + other.cpu_main,
        )


def _set_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _parents() -> dict[int, int]:
    out: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        out[int(entry)] = int(fields[1])
    return out


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_bytes().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _pss(pid: int) -> int:
    """Proportional set size: shared pages (a forkserver's imports) split among their users."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_bytes().splitlines():
            if line.startswith(b"Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return _rss(pid)


def _descendants(root: int, parents: dict[int, int], adopted: set[int]) -> set[int]:
    kids: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        kids.setdefault(ppid, []).append(pid)
    seen: set[int] = set()
    todo = [root, *(p for p in adopted if parents.get(p) == os.getpid())]
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in parents:
            continue
        seen.add(pid)
        todo.extend(kids.get(pid, ()))
    return seen


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_watched(
    cmd: list[str],
    *,
    cwd: Path,
    stdout: Path | None = None,
    log: Path | None = None,
    interval: float = 0.1,
    env: dict[str, str] | None = None,
) -> Usage:
    """Run ``cmd`` to completion and return its :class:`Usage`.

    Raises subprocess.CalledProcessError when it exits with a non-zero status (its stderr is in
    ``log``).
    """
    _set_subreaper()
    cpu0, t0 = _cpu(), time.monotonic()
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
    err = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
    tree: set[int] = {proc.pid}
    peak_main = peak_tree = 0
    cpu_main = 0.0
    try:
        while proc.poll() is None:
            tree |= _descendants(proc.pid, _parents(), tree)
            peak_main = max(peak_main, _rss(proc.pid))
            cpu_main = _cpu_of(proc.pid) or cpu_main
            peak_tree = max(peak_tree, sum(_pss(p) for p in tree))
            time.sleep(interval)
        wall = time.monotonic() - t0
        _reap(tree - {proc.pid})
    finally:
        for f in (out, err):
            if f is not subprocess.DEVNULL:
                f.close()  # type: ignore[union-attr]
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return Usage(wall, _cpu() - cpu0, peak_main, peak_tree, cpu_main)


def _reap(pids: set[int], timeout: float = 20.0) -> None:
    """Wait for the command's leftover processes (re-parented to us) so their CPU is counted."""
    deadline = time.monotonic() + timeout
    pending = set(pids)
    while pending and time.monotonic() < deadline:
        parents = _parents()
        for pid in list(pending):
            if pid not in parents:
                pending.discard(pid)  # gone, reaped by its own parent
            elif parents[pid] == os.getpid():
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    pending.discard(pid)
        if pending:
            time.sleep(0.05)


def tree_pss(root: int, *, exclude: frozenset[int] = frozenset()) -> tuple[int, int]:
    """(summed PSS in bytes, number of processes) of ``root``'s descendants (``root`` itself
    and ``exclude`` left out): what the processes a program started take now."""
    pids = _descendants(root, _parents(), set()) - {root} - exclude
    return sum(_pss(p) for p in pids), len(pids)
