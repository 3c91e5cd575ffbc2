"""`evkiosk backend …` as an operator runs it: the commands through the CLI's main(argv) on
real databases, `serve` as a real process on a real port, and the real entry point as a
process for a command with a database and for a failing one."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.backend.servers import PostgresCluster, free_port
from tests.backend.steps import link_body
from tests.evkiosk_cli import Ran, evkiosk

EVKIOSK = [sys.executable, "-m", "kiosk.cli.main", "backend"]


def process(*args: str) -> subprocess.CompletedProcess[str]:
    """`evkiosk backend ARGS` through the real entry point, in a process of its own."""
    return subprocess.run(
        [*EVKIOSK, *args], capture_output=True, text=True, timeout=120, check=False
    )


def cli(*args: str) -> Ran:
    """`evkiosk backend ARGS` through the CLI's main(argv), in this process."""
    return evkiosk("backend", *args)


def test_add_station_prints_a_key_once_and_refuses_duplicates(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'b.db'}"
    first = process("add-station", "ST-1", "--db", db)  # the entry point, end to end
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert key.startswith("evk_") and len(key) > 40
    assert "not shown again" in first.stderr
    again = cli("add-station", "ST-1", "--db", db)
    assert again.returncode == 2 and "exists already" in again.stderr
    bad = cli("add-station", "no spaces allowed", "--db", db)
    assert bad.returncode == 2 and "station id" in bad.stderr
    assert key.encode() not in (tmp_path / "b.db").read_bytes()


class Served:
    """`evkiosk backend serve` as a child process on a free port."""

    def __init__(self, db: str, *extra: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [*EVKIOSK, "serve", "--db", db, "--listen", f"127.0.0.1:{self.port}", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def __enter__(self) -> Served:
        # Generous: on a loaded machine, importing the backend in each worker takes a while.
        deadline = time.monotonic() + 180
        # One client for all the polls: each httpx.get() builds a TLS context (~70 ms CPU).
        with httpx.Client(timeout=1) as poll:
            while True:
                try:
                    if poll.get(f"{self.base}/healthz").status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                assert self.proc.poll() is None, self.proc.communicate()[1]
                if time.monotonic() > deadline:
                    self.__exit__()  # never leave a server running behind a failed test
                    raise AssertionError("server did not start")
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.stdout, self.stderr = self.proc.communicate(timeout=30)


def test_serve_answers_with_links_under_the_public_url(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'b.db'}"
    key = cli("add-station", "ST-1", "--db", db).stdout.strip()
    with Served(db, "--public-url", "https://pay.example.org") as served:
        r = httpx.post(
            f"{served.base}/api/v1/payment-links",
            json=link_body(),
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert r.status_code == 201, r.text
        assert r.json()["url"].startswith("https://pay.example.org/pay/pl_")
        assert httpx.get(f"{served.base}/openapi.json", timeout=5).json()["info"]["title"]
    assert served.proc.returncode == 0


@pytest.mark.parametrize("flag", [False, True])
def test_requests_are_logged_only_with_access_log(tmp_path: Path, flag: bool) -> None:
    db = f"sqlite:///{tmp_path / 'b.db'}"
    with Served(db, *(["--access-log"] if flag else [])) as served:
        assert httpx.get(f"{served.base}/healthz", timeout=10).status_code == 200
    logged = '"GET /healthz HTTP/1.1" 200' in served.stdout + served.stderr
    assert logged == flag


def test_several_workers_share_links_and_long_polls(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'b.db'}"
    key = cli("add-station", "ST-1", "--db", db).stdout.strip()
    with Served(db, "--workers", "2") as served:
        auth = {"Authorization": f"Bearer {key}"}
        link = httpx.post(
            f"{served.base}/api/v1/payment-links", json=link_body(), headers=auth, timeout=10
        ).json()
        seen: dict[str, str] = {}

        def poll() -> None:
            r = httpx.get(
                f"{served.base}/api/v1/payment-links/{link['id']}",
                params={"wait": 20, "status": "pending"},
                headers=auth,
                timeout=30,
            )
            seen["status"] = r.json()["status"]

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.3)
        paid = httpx.post(
            f"{served.base}/pay/{link['id']}",
            data={"card_number": "4242424242424242", "expiry": "12/30", "cvc": "123"},
            timeout=10,
        )
        assert paid.status_code == 303
        poller.join(30)
    assert seen["status"] == "authorized"


def test_serve_rejects_a_bad_listen_address(tmp_path: Path) -> None:
    r = cli("serve", "--db", f"sqlite:///{tmp_path / 'b.db'}", "--listen", "nonsense")
    assert r.returncode == 2 and "HOST:PORT" in r.stderr


@pytest.mark.needs_postgres
def test_cli_works_on_postgresql(pg_cluster: PostgresCluster) -> None:
    url = pg_cluster.new_database()
    assert cli("add-station", "PG-1", "--db", url).returncode == 0
    r = cli("reconcile", "--db", url, "--from", "2026-01-01", "--to", "2026-01-31")
    assert r.returncode == 0, r.stderr
    assert '"clean": true' in r.stdout


def test_unreachable_database_is_a_runtime_failure() -> None:
    port = free_port()  # nothing listens there
    # A process of its own: its exit status and the whole of its stderr, as a script sees them.
    r = process("add-station", "X", "--db", f"postgresql://nobody@127.0.0.1:{port}/x")
    assert r.returncode == 1
    assert "database" in r.stderr and "Traceback" not in r.stderr


def test_serve_registers_the_station_key_from_a_file_and_rekeys_it_next_time(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'b.db'}"
    key_file = tmp_path / "station.key"
    for secret in ("A" * 43, "B" * 43):  # a second start with a new key replaces the first
        key = f"evk_{'0123456789abcdef'}_{secret}"
        key_file.write_text(key + "\n", encoding="ascii")
        with Served(db, "--station", "ST-9", "--key-file", str(key_file)) as served:
            r = httpx.post(
                f"{served.base}/api/v1/payment-links",
                json=link_body(),
                headers={"Authorization": f"Bearer {key}"},
                timeout=10,
            )
            assert r.status_code == 201, r.text
            old = httpx.post(
                f"{served.base}/api/v1/payment-links",
                json=link_body(),
                headers={"Authorization": f"Bearer evk_0123456789abcdef_{'A' * 43}"},
                timeout=10,
            )
            assert old.status_code == (201 if secret == "A" * 43 else 401)


def test_serve_refuses_a_key_file_without_a_station_key(tmp_path: Path) -> None:
    key_file = tmp_path / "station.key"
    key_file.write_text("change-me", encoding="ascii")
    db = f"sqlite:///{tmp_path / 'b.db'}"
    r = cli("serve", "--db", db, "--listen", "127.0.0.1:1", "--station", "S", "--key-file",
            str(key_file))  # fmt: skip
    assert r.returncode == 2 and "station key" in r.stderr
    alone = cli("serve", "--db", db, "--station", "S")
    assert alone.returncode == 2 and "--key-file" in alone.stderr
