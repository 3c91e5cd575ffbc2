"""doctor: serial ports missing, not permitted for the kiosk's user, or held by another process.

The ports are real ptys; permissions are judged for a given user from the node's mode and
group, so these run the same as root and as a normal user.
"""

from __future__ import annotations

import grp
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.doctor import DoctorOptions, Outcome, run_doctor
from drivers.doctor.ports import Identity, check_port
from tests.ops.stations import station_toml

NOBODY = Identity("kiosk", 65534, frozenset({65534}))


@pytest.fixture
def pty_port() -> Iterator[str]:
    master, slave = pty.openpty()
    name = os.ttyname(slave)
    os.close(slave)  # the node stays while the master is open
    try:
        yield name
    finally:
        os.close(master)


def _group_id(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        pytest.skip(f"no {name} group on this machine")


def test_missing_port_fails_and_the_device_is_not_asked(tmp_path: Path) -> None:
    port = str(tmp_path / "ttyUSB9")
    config = station_toml(
        tmp_path, meter=f'hardware = "real"\nmodel = "sdm630"\nport = "{port}"\nunit = 1'
    )
    checks = run_doctor(DoctorOptions(config=config, timedatectl=None, min_free_mb=0))
    [port_check] = [c for c in checks if c.area == "port"]
    assert port_check.outcome is Outcome.FAIL
    assert "does not exist" in port_check.detail and "meters.m1" in port_check.subject
    assert "/dev/serial/by-id" in port_check.fix
    [meter] = [c for c in checks if c.area == "meter"]
    assert meter.outcome is Outcome.SKIP and port in meter.detail


def test_not_a_serial_device(tmp_path: Path) -> None:
    plain = tmp_path / "file"
    plain.write_text("")
    check = check_port(str(plain), ["terminal"], Identity.current())
    assert check.outcome is Outcome.FAIL and "not a serial device" in check.detail


def test_user_outside_the_ports_group_is_told_to_join_it(pty_port: str) -> None:
    # The port's group: dialout as on a real station, when this user may give it (root, or a
    # member); else the user's own group, which the owner of a pty may always give.
    dialout = _group_id("dialout")
    group = dialout if os.geteuid() == 0 or dialout in os.getgroups() else os.getgid()
    os.chown(pty_port, 0 if os.geteuid() == 0 else -1, group)
    os.chmod(pty_port, 0o660)
    check = check_port(pty_port, ["terminal"], NOBODY)
    assert check.outcome is Outcome.FAIL
    assert "kiosk may not read and write" in check.detail
    assert f"usermod -aG {grp.getgrgid(group).gr_name} kiosk" in check.fix
    member = Identity("kiosk", 65534, frozenset({65534, group}))
    assert check_port(pty_port, ["terminal"], member).outcome is Outcome.PASS


def test_port_closed_to_its_group_needs_a_udev_rule(pty_port: str) -> None:
    os.chmod(pty_port, 0o600)
    check = check_port(pty_port, ["terminal"], NOBODY)
    assert check.outcome is Outcome.FAIL and "udev" in check.fix


def test_port_held_by_another_process(pty_port: str) -> None:
    with open(pty_port, "wb") as port_fh:  # handed to the child, which keeps it open
        holder = subprocess.Popen(
            [sys.executable, "-c", "import sys; print('ok', flush=True); sys.stdin.read()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=port_fh,
            text=True,
        )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ok\n"
        check = check_port(pty_port, ["meters.m1"], Identity.current())
        assert check.outcome is Outcome.FAIL
        assert f"pid {holder.pid}" in check.detail and "systemctl stop evkiosk" in check.fix
    finally:
        holder.communicate(timeout=10)
    assert check_port(pty_port, ["meters.m1"], Identity.current()).outcome is Outcome.PASS
