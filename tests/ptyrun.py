"""Run a command under a pseudo terminal, as a person at a terminal would see it.

Example::

    out = run_in_pty(["-m", "newsvault", "runs", "--config", cfg], cols=200)
    assert "┃" in out.text   # rich drew a table
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass

from tests.conftest import ROOT

__all__ = ["PtyOutput", "run_in_pty"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


@dataclass(frozen=True)
class PtyOutput:
    raw: str  # everything written to the terminal, escape sequences included
    returncode: int

    @property
    def text(self) -> str:
        """The output without escape sequences or carriage-return redraws."""
        plain = _ANSI.sub("", self.raw).replace("\r\n", "\n")
        return "\n".join(line.rsplit("\r", 1)[-1] for line in plain.split("\n"))


def run_in_pty(
    args: list[str],
    *,
    cols: int = 120,
    rows: int = 40,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> PtyOutput:
    """``python ARGS`` with stdin, stdout and stderr on a new terminal of ``cols`` x ``rows``."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    environ.update({"TERM": "xterm-256color", **(env or {})})
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=environ,
        start_new_session=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the terminal's last writer is gone
                break
            if not data:
                break
            chunks.append(data)
        else:
            proc.kill()
            raise TimeoutError(f"{args} still running after {timeout} s")
    finally:
        os.close(master)
    return PtyOutput(b"".join(chunks).decode("utf-8", "replace"), proc.wait(timeout=30))
