"""The line process's CPU cgroup: which hierarchy controls the CPU, where our group is in it, the
steps for cgroup v1 and v2, a reason instead of a change where the OS allows none, and (where this
machine lets the tests change cgroups) a real process moved into a real idle group."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from opsgate.adapters.cpu_groups import (
    LINES_GROUP,
    SERVE_GROUP,
    Mount,
    Placed,
    cpu_mount,
    own_group,
    place_in_background_group,
)

V1_CPU = "35 25 0:30 / /sys/fs/cgroup/cpu rw,relatime shared:11 - cgroup cgroup rw,cpu\n"
V1_MEMORY = "36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:12 - cgroup cgroup rw,memory\n"
V2 = "40 25 0:35 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw\n"
ROOT_FS = "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"


def test_a_v1_cpu_hierarchy_is_chosen_over_the_unified_one():
    assert cpu_mount(ROOT_FS + V2 + V1_MEMORY + V1_CPU) == Mount(1, "/", Path("/sys/fs/cgroup/cpu"))
    assert cpu_mount(ROOT_FS + V2) == Mount(2, "/", Path("/sys/fs/cgroup/unified"))
    assert cpu_mount(ROOT_FS + V1_MEMORY) is None
    combined = "35 25 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    assert cpu_mount(combined).point == Path("/sys/fs/cgroup/cpu,cpuacct")


def test_our_group_is_found_under_the_mount_and_its_root():
    v1 = Mount(1, "/", Path("/sys/fs/cgroup/cpu"))
    assert own_group(v1, "4:memory:/x\n2:cpu,cpuacct:/system.slice/opsgate.service\n") == \
        Path("/sys/fs/cgroup/cpu/system.slice/opsgate.service")
    assert own_group(v1, "1:cpu:/\n") == Path("/sys/fs/cgroup/cpu")
    v2 = Mount(2, "/", Path("/sys/fs/cgroup"))
    assert own_group(v2, "0::/system.slice/opsgate.service\n") == Path("/sys/fs/cgroup/system.slice/opsgate.service")
    in_container = Mount(2, "/kubepods/pod1", Path("/sys/fs/cgroup"))  # the mount shows only our part
    assert own_group(in_container, "0::/kubepods/pod1/app\n") == Path("/sys/fs/cgroup/app")
    assert own_group(in_container, "0::/elsewhere\n") is None
    assert own_group(v1, "0::/only-v2\n") is None


def fake_proc(tmp_path: Path, mountinfo: str, cgroup: str) -> Path:
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "mountinfo").write_text(mountinfo)
    (proc / "self" / "cgroup").write_text(cgroup)
    return proc


def test_v2_moves_our_processes_to_a_leaf_enables_cpu_below_and_makes_the_idle_group(tmp_path):
    service = tmp_path / "cg" / "opsgate.service"
    service.mkdir(parents=True)
    (service / "cgroup.controllers").write_text("cpu io memory pids\n")
    (service / "cgroup.subtree_control").write_text("\n")
    (service / "cgroup.procs").write_text("4242\n")
    mountinfo = f"40 25 0:35 / {tmp_path / 'cg'} rw - cgroup2 cgroup2 rw\n"
    proc = fake_proc(tmp_path, mountinfo, "0::/opsgate.service\n")

    placed = place_in_background_group(4343, proc=proc)

    assert placed == Placed(service / LINES_GROUP, "cpu.weight=1")  # a fake tree has no cpu.idle
    assert (service / SERVE_GROUP / "cgroup.procs").read_text() == "4242"
    assert (service / "cgroup.subtree_control").read_text() == "+cpu"
    assert (service / LINES_GROUP / "cgroup.procs").read_text() == "4343"


def test_v2_without_the_cpu_controller_delegated_changes_nothing(tmp_path):
    service = tmp_path / "cg" / "app"
    service.mkdir(parents=True)
    (service / "cgroup.controllers").write_text("memory pids\n")
    proc = fake_proc(tmp_path, f"40 25 0:35 / {tmp_path / 'cg'} rw - cgroup2 cgroup2 rw\n", "0::/app\n")

    reason = place_in_background_group(1, proc=proc)

    assert "cpu controller is not delegated" in reason
    assert sorted(p.name for p in service.iterdir()) == ["cgroup.controllers"]


def test_v1_marks_the_group_idle_where_the_kernel_can(tmp_path):
    cpu = tmp_path / "cpu"
    cpu.mkdir()
    (cpu / LINES_GROUP).mkdir()
    (cpu / LINES_GROUP / "cpu.idle").write_text("0")  # as the kernel shows it in a new group
    proc = fake_proc(tmp_path, f"35 25 0:30 / {cpu} rw - cgroup cgroup rw,cpu\n", "2:cpu:/\n")

    assert place_in_background_group(77, proc=proc) == Placed(cpu / LINES_GROUP, "cpu.idle=1")
    assert (cpu / LINES_GROUP / "cpu.idle").read_text() == "1"
    assert not (cpu / LINES_GROUP / "cpu.shares").exists()  # the kernel refuses a weight for an idle group


def test_v1_without_idle_groups_gives_the_lowest_weight(tmp_path):
    cpu = tmp_path / "cpu"
    cpu.mkdir()
    proc = fake_proc(tmp_path, f"35 25 0:30 / {cpu} rw - cgroup cgroup rw,cpu\n", "2:cpu:/\n")

    assert place_in_background_group(78, proc=proc) == Placed(cpu / LINES_GROUP, "cpu.shares=2")
    assert (cpu / LINES_GROUP / "cgroup.procs").read_text() == "78"


@pytest.mark.parametrize("mountinfo, cgroup, expected", [
    (ROOT_FS, "0::/\n", "no cgroup hierarchy controls the CPU here"),
    ("35 25 0:30 / {tmp}/not-mounted rw - cgroup cgroup rw,cpu\n", "2:cpu:/\n", "No such file or directory"),
    ("35 25 0:30 /a /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n", "2:cpu:/b\n", "is not under"),
])
def test_where_nothing_can_be_done_the_reason_is_given(tmp_path, mountinfo, cgroup, expected):
    proc = fake_proc(tmp_path, mountinfo.format(tmp=tmp_path), cgroup)
    assert expected in place_in_background_group(1, proc=proc)
    assert not (tmp_path / "not-mounted").exists()


def _sleep() -> None:
    time.sleep(30)


def test_a_real_process_is_moved_into_a_real_idle_group():
    child = multiprocessing.get_context("fork").Process(target=_sleep, daemon=True)
    child.start()
    try:
        placed = place_in_background_group(child.pid)
        if not isinstance(placed, Placed):
            pytest.skip(f"this machine lets no test change CPU cgroups: {placed}")
        assert placed.group.name == LINES_GROUP
        assert str(child.pid) in (placed.group / "cgroup.procs").read_text().split()
        assert f"/{LINES_GROUP}" in Path(f"/proc/{child.pid}/cgroup").read_text()
        if (placed.group / "cpu.idle").exists():
            assert (placed.group / "cpu.idle").read_text().strip() == "1"
        assert f"/{LINES_GROUP}" not in Path(f"/proc/{os.getpid()}/cgroup").read_text()  # the caller stays
    finally:
        child.kill()
        child.join()
