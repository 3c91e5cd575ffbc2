"""Run the test CSMS (tests/peers/csms: Node.js, npm's ocpp-rpc in strict mode) so an installer
can try a station's OCPP link without an operator's system; prints the [ocpp] section to paste.

evkiosk sim csms [--port 9000] [--password change-me-csms] [--record csms.jsonl]
                 [--protocols ocpp2.1,ocpp2.0.1,ocpp1.6] [--identity EVK-0001]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

PEER_DIR = Path(__file__).resolve().parents[2] / "tests" / "peers" / "csms"
PROTOCOLS = ("ocpp2.1", "ocpp2.0.1", "ocpp1.6")


def add_arguments(parser: argparse.ArgumentParser, kind: str) -> None:
    parser.add_argument("--port", type=int, default=9000, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument("--password", default="change-me-csms", help="HTTP basic-auth password")
    parser.add_argument(
        "--record", type=Path, default=Path("csms.jsonl"), help="every message, one JSON line"
    )
    parser.add_argument(
        "--protocols",
        default=",".join(PROTOCOLS),
        help="OCPP versions it accepts, preferred first (default: %(default)s)",
    )
    parser.add_argument("--identity", default="EVK-0001", help="station identity for the section")


def missing(node: str | None) -> str | None:
    """What is missing to run the test CSMS, with the line that installs it; None: nothing."""
    if not (PEER_DIR / "csms.js").is_file():
        return (
            f"the test CSMS is not in this installation ({PEER_DIR}); it ships with the "
            "source checkout (git clone), in tests/peers/csms"
        )
    if node is None:
        return (
            "node is not installed: sudo apt-get install nodejs npm, then "
            f"npm ci --prefix {PEER_DIR}"
        )
    if not (PEER_DIR / "node_modules" / "ocpp-rpc").is_dir():
        return f"the test CSMS's packages are not installed: npm ci --prefix {PEER_DIR}"
    return None


def section(port: int, identity: str, protocols: list[str]) -> str:
    versions = ", ".join(f'"{p.removeprefix("ocpp")}"' for p in protocols)
    return (
        "[ocpp]\n"
        f'url = "ws://127.0.0.1:{port}/ocpp"\n'
        f'identity = "{identity}"\n'
        'password_file = "csms-password"\n'
        f"versions = [{versions}]\n"
    )


def run(args: argparse.Namespace) -> int:
    node = shutil.which("node")
    problem = missing(node)
    if problem is not None:
        print(f"evkiosk sim csms: {problem}", file=sys.stderr)
        return 1
    assert node is not None
    protocols = [p.strip() for p in str(args.protocols).split(",") if p.strip()]
    unknown = [p for p in protocols if p not in PROTOCOLS]
    if not protocols or unknown:
        print(f"evkiosk sim csms: --protocols takes {', '.join(PROTOCOLS)}", file=sys.stderr)
        return 2
    command = [
        node,
        str(PEER_DIR / "csms.js"),
        "--record",
        str(args.record.resolve()),
        "--port",
        str(args.port),
        "--password",
        args.password,
        "--protocols",
        ",".join(protocols),
    ]
    child = subprocess.Popen(command, cwd=PEER_DIR, stdout=subprocess.PIPE, text=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line.startswith("LISTENING "):
            print("evkiosk sim csms: the test CSMS did not start", file=sys.stderr)
            return 1
        port = int(line.split()[1])
        print(
            f"test CSMS on ws://127.0.0.1:{port}/ocpp ({', '.join(protocols)}; every message "
            f"checked against the official schemas), recording to {args.record}\n"
            f"Next to station.toml:  echo '{args.password}' > csms-password\n"
            "and append to station.toml:\n",
            flush=True,
        )
        print(section(port, args.identity, protocols), flush=True)
        return child.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if child.poll() is None:
            child.terminate()
            child.wait(10)
        if child.stdout is not None:
            child.stdout.close()
