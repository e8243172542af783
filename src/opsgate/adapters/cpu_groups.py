"""An idle CPU cgroup for background work, where the operating system allows one.

Why: `serve`'s line process runs a dozen threads (lines, the outbox, jobs) that wake one another
all the time. Linux's fair scheduler weighs every runnable thread on its own, and even at nice 19
one of them, picked while the acking thread was briefly not "eligible", keeps the CPU until the
next scheduler tick: up to 4 ms at HZ=250, which is the whole tail of the ack latency on a busy
CPU. In an idle cgroup of its own the line process competes as one entity that yields to any
other work, and the acking thread runs within microseconds of its wake-up (docs/benchmarks.md, "Slack ack").

Best effort, with a reason when it cannot be done:
- cgroup v1 (a `cpu` hierarchy): a child group `opsgate-lines` of the current one.
- cgroup v2: needs a delegated subtree (systemd `Delegate=yes`). The processes of the current
  group move to a leaf `opsgate-serve` (v2 allows controllers only below groups without
  processes), the `cpu` controller is enabled below, and `opsgate-lines` is made there.
The group is marked idle (`cpu.idle` 1) where the kernel has that (5.15 and later), else given
the lowest weight (`cpu.shares` 2, `cpu.weight` 1).
Without one (no permission, a read-only mount, no `cpu` controller) the line process still runs at
nice 19. The groups stay when `serve` stops (empty ones cost nothing) and are reused at the next start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

LINES_GROUP = "opsgate-lines"
SERVE_GROUP = "opsgate-serve"
V1_LOWEST_SHARES = 2  # cpu.shares' minimum (default 1024)


@dataclass(frozen=True)
class Mount:
    version: int  # 1 or 2
    root: str  # the hierarchy path mounted there (not "/" inside some containers)
    point: Path


@dataclass(frozen=True)
class Placed:
    group: Path
    how: str  # e.g. "cpu.idle=1", for the log


def cpu_mount(mountinfo: str) -> Mount | None:
    """The hierarchy that controls CPU: a v1 mount with the `cpu` controller, else the v2 one."""
    unified = None
    for line in mountinfo.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        after = line.split(" - ", 1)[1].split()
        fstype, options = after[0], after[2].split(",") if len(after) > 2 else []
        if fstype == "cgroup" and "cpu" in options:
            return Mount(1, fields[3], Path(fields[4]))
        if fstype == "cgroup2" and unified is None:
            unified = Mount(2, fields[3], Path(fields[4]))
    return unified


def own_group(mount: Mount, proc_cgroup: str) -> Path | None:
    """The directory of the calling process's group in `mount` (from /proc/self/cgroup)."""
    for line in proc_cgroup.splitlines():
        _, controllers, path = line.split(":", 2)
        if (mount.version == 1 and "cpu" in controllers.split(",")) or (mount.version == 2 and controllers == ""):
            relative = os.path.relpath(path, mount.root)
            if relative.startswith(".."):
                return None  # our group is not under what is mounted here
            return mount.point / relative
    return None


def place_in_background_group(pid: int, *, proc: Path = Path("/proc")) -> Placed | str:
    """Move process `pid` (all its threads) into the idle group below the caller's.
    Returns where, or why not."""
    try:
        mount = cpu_mount((proc / "self" / "mountinfo").read_text())
        if mount is None:
            return "no cgroup hierarchy controls the CPU here"
        current = own_group(mount, (proc / "self" / "cgroup").read_text())
        if current is None:
            return f"this process's cgroup is not under {mount.point}"
        return _place_v1(current, pid) if mount.version == 1 else _place_v2(current, pid)
    except OSError as err:  # EACCES/EROFS/EBUSY/ENOENT: not ours to change
        return f"{err.strerror or err} ({err.filename or 'cgroup'})"


def _place_v1(current: Path, pid: int) -> Placed:
    group = current / LINES_GROUP
    group.mkdir(exist_ok=True)
    how = _idle(group) or _write(group / "cpu.shares", str(V1_LOWEST_SHARES))
    (group / "cgroup.procs").write_text(str(pid))
    return Placed(group, how)


def _place_v2(current: Path, pid: int) -> Placed:
    if "cpu" not in (current / "cgroup.controllers").read_text().split():
        raise OSError(0, "the cpu controller is not delegated to this cgroup", str(current / "cgroup.controllers"))
    if "cpu" not in (current / "cgroup.subtree_control").read_text().split():
        serve = current / SERVE_GROUP
        serve.mkdir(exist_ok=True)
        for member in (current / "cgroup.procs").read_text().split():
            (serve / "cgroup.procs").write_text(member)  # no processes may stay where controllers are enabled below
        (current / "cgroup.subtree_control").write_text("+cpu")
    group = current / LINES_GROUP
    group.mkdir(exist_ok=True)
    how = _idle(group) or _write(group / "cpu.weight", "1")
    (group / "cgroup.procs").write_text(str(pid))
    return Placed(group, how)


def _idle(group: Path) -> str | None:
    """Mark the group idle where the kernel can (5.15 and later): any other runnable task then
    takes the CPU from it at once, as from a SCHED_IDLE thread; a low weight alone still lets
    the group hold the CPU for a slice whenever its share comes due (measured: the ack's p99 at
    10 clients 6.0 ms with cpu.shares 2, 4.6 ms idle)."""
    idle = group / "cpu.idle"
    return _write(idle, "1") if idle.exists() else None  # an idle group takes no weight: the kernel refuses one


def _write(setting: Path, value: str) -> str:
    setting.write_text(value)
    return f"{setting.name}={value}"
