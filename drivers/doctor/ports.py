"""Serial ports: the device node exists, the kiosk's user may read and write it, nobody holds it.

Permissions are judged from the node's mode, owner and group against a user's groups rather
than with os.access, so `doctor --user evkiosk` run by root answers for the kiosk's service
user (root itself may open anything).
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

from drivers.doctor.result import Check, failed, passed
from kiosk.config import DeviceConfig, StationConfig
from kiosk.ops.holders import processes_holding

NETWORK_PREFIXES = ("tcp://", "socket://", "rfc2217://")


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    uid: int
    gids: frozenset[int]

    @classmethod
    def current(cls) -> Identity:
        uid = os.geteuid()
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            name = str(uid)
        return cls(name, uid, frozenset({os.getegid(), *os.getgroups()}))

    @classmethod
    def of_user(cls, name: str) -> Identity:
        """Raises KeyError if there is no such user."""
        entry = pwd.getpwnam(name)
        groups = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if name in g.gr_mem}
        return cls(name, entry.pw_uid, frozenset(groups))


def serial_port_of(device: DeviceConfig) -> str | None:
    """The local serial device a real device is configured on (None: network or simulated)."""
    if device.hardware != "real" or "host" in device.settings:
        return None
    port = device.settings.get("port")
    if not isinstance(port, str) or port.startswith(NETWORK_PREFIXES):
        return None
    return port


def ports_in(config: StationConfig) -> dict[str, list[str]]:
    """Each local serial port and the devices configured on it."""
    devices: list[DeviceConfig] = [config.terminal] if config.terminal else []
    devices += [*config.meters.values(), *config.controllers.values()]
    out: dict[str, list[str]] = {}
    for device in devices:
        port = serial_port_of(device)
        if port is not None:
            out.setdefault(port, []).append(device.name)
    return out


def may_access(info: os.stat_result, who: Identity, write: bool = True) -> bool:
    """Unix permission bits for `who`: the owner's, else the group's, else the others'."""
    if who.uid == 0:
        return True
    need = 0o6 if write else 0o4
    if info.st_uid == who.uid:
        shift = 6
    elif info.st_gid in who.gids:
        shift = 3
    else:
        shift = 0
    return (info.st_mode >> shift) & need == need


def may_read_write(info: os.stat_result, who: Identity) -> bool:
    return may_access(info, who, write=True)


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def check_port(
    port: str, users: list[str], who: Identity, proc_root: Path = Path("/proc")
) -> Check:
    subject = f"{port} ({', '.join(users)})"
    path = Path(port)
    try:
        info = path.stat()
    except FileNotFoundError:
        return failed(
            "port",
            subject,
            "does not exist",
            "plug in the USB-RS485/RS232 adapter and check `ls -l /dev/serial/by-id/`; prefer "
            "the stable /dev/serial/by-id/... name in the config over /dev/ttyUSBn",
        )
    except OSError as exc:
        return failed("port", subject, f"cannot be examined ({exc.strerror})", "check the path")
    except ValueError:  # a NUL byte in the name
        return failed(
            "port", subject, "cannot be examined (a NUL byte in the name)", "fix the path"
        )
    if not stat.S_ISCHR(info.st_mode):
        return failed(
            "port", subject, "is not a serial device (not a character device)", "fix the path"
        )
    if not may_read_write(info, who):
        group = group_name(info.st_gid)
        mode = stat.filemode(info.st_mode)
        if info.st_mode & 0o060 == 0o060:
            fix = (
                f"add {who.name} to group {group}: sudo usermod -aG {group} {who.name}, then "
                "restart the service (or log in again)"
            )
        else:
            fix = (
                f"the node is {mode} {group}: give group dialout read/write with a udev rule "
                '(SUBSYSTEM=="tty", GROUP="dialout", MODE="0660") and add the user to dialout'
            )
        return failed("port", subject, f"{who.name} may not read and write it ({mode})", fix)
    scan = processes_holding(path, proc_root=proc_root)
    if scan.holders:
        return failed(
            "port",
            subject,
            "held open by " + ", ".join(h.describe() for h in scan.holders),
            "stop that process (a running kiosk: systemctl stop evkiosk; a serial console: "
            "systemctl disable --now serial-getty@...; ModemManager: systemctl disable --now "
            "ModemManager), then run doctor again",
        )
    note = "" if scan.complete else " (other users' processes not visible: run as root to be sure)"
    return passed(
        "port",
        subject,
        f"{who.name} may read and write it; no other process has it open{note}",
    )
