"""CPU time of processes on this host, read from /proc (Linux): what the benchmarks charge to each part."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def process_stat(pid: int) -> tuple[int, str, float]:
    """(parent pid, command name, CPU seconds used so far, user + system, all threads); OSError once it is gone."""
    head, _, tail = Path(f"/proc/{pid}/stat").read_text().rpartition(")")
    fields = tail.split()
    return int(fields[1]), head.partition("(")[2], (int(fields[11]) + int(fields[12])) / TICKS


def cpu_s(pid: int) -> float:
    """CPU seconds a process has used so far."""
    return process_stat(pid)[2]


def all_processes() -> dict[int, tuple[int, str, float]]:
    """``process_stat`` of every process (those that end meanwhile are left out)."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                found[int(name)] = process_stat(int(name))
            except OSError:
                continue
    return found
