"""The independent CSMS (tests/peers/csms: Node.js, ocpp-rpc in strict mode) as a child process
on 127.0.0.1, and what it recorded."""

from __future__ import annotations

import hmac
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REQUIRE_ALL

PEER_DIR = Path(__file__).resolve().parents[1] / "peers" / "csms"
INSTALL = "npm ci --prefix tests/peers/csms"
PASSWORD = "e2e-csms-password-0123"


def require_peer() -> str:
    """node and the peer's npm packages, or skip (fail in CI) with the line that installs them."""
    node = shutil.which("node")
    if node is None:
        message = "node is not installed (sudo apt-get install nodejs npm; then " + INSTALL + ")"
    elif not (PEER_DIR / "node_modules" / "ocpp-rpc").is_dir():
        message = f"the test CSMS's packages are not installed ({INSTALL})"
    else:
        return node
    if REQUIRE_ALL:
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Message:
    protocol: str | None
    outbound: bool  # sent by the CSMS
    frame: list[Any]

    @property
    def kind(self) -> int:
        return int(self.frame[0])


class Csms:
    def __init__(
        self,
        record: Path,
        *,
        receipt_url: str | None = None,
        after_boot: list[tuple[str, dict[str, Any]]] | None = None,
        protocols: tuple[str, ...] = ("ocpp2.1",),
        authorize_status: str | None = None,
        tx_answer: dict[str, Any] | None = None,
    ) -> None:
        """`protocols`: the subprotocols it accepts, in its order of preference;
        `authorize_status`: what it answers a 2.x Authorize (default Accepted)."""
        self.node = require_peer()
        self.record = record
        self.receipt_url = receipt_url
        self.after_boot = after_boot
        self.protocols = protocols
        self.authorize_status = authorize_status
        self.tx_answer = tx_answer
        self.port = 0
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> Csms:
        args = [
            self.node,
            str(PEER_DIR / "csms.js"),
            "--record",
            str(self.record),
            "--port",
            str(self.port),
            "--password",
            PASSWORD,
            "--protocols",
            ",".join(self.protocols),
        ]
        if self.receipt_url:
            args += ["--receipt-url", self.receipt_url]
        if self.authorize_status:
            args += ["--authorize-status", self.authorize_status]
        if self.tx_answer is not None:
            args += ["--tx-answer", json.dumps(self.tx_answer)]
        if self.after_boot:
            script = self.record.with_suffix(".script.json")
            script.write_text(json.dumps(self.after_boot))
            args += ["--after-boot", str(script)]
        errors = self.record.with_suffix(".stderr")
        with errors.open("a") as stderr:
            self.process = subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=PEER_DIR
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # blocks until it listens (or dies)
        if not line.startswith("LISTENING "):
            self.stop()
            raise RuntimeError(f"the test CSMS did not start: {line!r} {errors.read_text()}")
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def entries(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        lines = self.record.read_text().splitlines()
        # Amounts compared as the exact decimals on the wire.
        return [json.loads(line, parse_float=Decimal) for line in lines if line.strip()]

    def messages(self) -> list[Message]:
        return [
            Message(e.get("protocol"), bool(e["outbound"]), e["message"])
            for e in self.entries()
            if "message" in e
        ]

    def calls(self, action: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """(message id, payload) of each call the station sent, in arrival order."""
        return [
            (m.frame[1], m.frame[3])
            for m in self.messages()
            if not m.outbound and m.kind == 2 and (action is None or m.frame[2] == action)
        ]

    def results(self) -> list[dict[str, Any]]:
        """What became of each call the CSMS made (--after-boot), in order."""
        return [e for e in self.entries() if e.get("event") in ("call-result", "call-failed")]

    def errors(self) -> list[list[Any]]:
        """Every CallError the CSMS sent: a strict-mode refusal of what the station sent."""
        return [m.frame for m in self.messages() if m.outbound and m.kind == 4]

    def wait_for(self, what: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            if time.monotonic() > deadline:
                raise AssertionError(f"the CSMS did not see it in {timeout} s: {self.tail()}")
            time.sleep(0.02)

    def tail(self, lines: int = 8) -> str:
        return "\n".join(json.dumps(e, default=str) for e in self.entries()[-lines:])


def ocpp_section(
    url: str,
    password_file: Path,
    *,
    interval_s: int = 60,
    versions: tuple[str, ...] = ("2.1",),
) -> str:
    offered = ", ".join(f'"{v}"' for v in versions)
    return (
        "\n[ocpp]\n"
        f'url = "{url}"\n'
        'identity = "EVK-E2E-1"\n'
        f'password_file = "{password_file}"\n'
        f"versions = [{offered}]\n"
        f"meter_interval_s = {interval_s}\n"
    )


def write_password(directory: Path) -> Path:
    path = directory / "csms-password"
    path.write_text(PASSWORD + "\n")
    os.chmod(path, 0o600)
    return path


def expected_totp(secret: str, validity_s: int, length: int, unix_s: int) -> str:
    """OCPP 2.1 C25 "TOTP algorithm, version 1", written out from the specification's steps."""
    counter = (unix_s // validity_s).to_bytes(8, byteorder="big")
    digest = hmac.digest(secret.encode("utf-8"), counter, "sha256")
    alphabet = "0123456789" "abcdefghijklmnopqrstuvwxyz" "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # fmt: skip
    start = digest[31] % 16
    return "".join(alphabet[digest[(start + i) % 32] % 62] for i in range(length))
