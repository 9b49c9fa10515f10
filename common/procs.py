"""Child processes that die with their parent, whatever kills the parent.

A crawl's extraction forkserver and workers are its children; when the crawl is killed with
SIGKILL (the OOM killer, ``kill -9``, a container stop that kills only the main process) nothing
of Python's runs in it, so they must learn of its death from the kernel. On Linux,
``prctl(PR_SET_PDEATHSIG, SIGKILL)`` asks the kernel to kill the calling process when its parent
exits. :func:`die_with_parent` sets it and then checks that the parent is still the one it had
(a parent that died before the call has already handed the process to a reaper; a
multiprocessing child also checks the process that started it through a forkserver).

Call it first thing in the child: the extraction forkserver (``pipeline.prefork``) and each
extraction worker (``pipeline.extract_worker.init_worker``). The multiprocessing resource
tracker needs no call: it exits by itself once every process holding its pipe (the crawl, the
forkserver, the workers) is gone.

Elsewhere than Linux it does nothing (returns False).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys

__all__ = ["die_with_parent"]

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _prctl_pdeathsig(sig: int) -> bool:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return int(libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)) == 0


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Have the kernel send ``sig`` to this process when its parent exits; if the parent is
    already gone, send it now. Returns True when the kernel took the request."""
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    armed = _prctl_pdeathsig(sig)
    mp_parent = multiprocessing.parent_process()
    if os.getppid() != parent or (mp_parent is not None and not mp_parent.is_alive()):
        os.kill(os.getpid(), sig)  # the parent died before the request: die as it asked
    return armed
