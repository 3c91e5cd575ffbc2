"""Drills on delivery itself: a certificate the kiosk does not trust, the kiosk killed -9
between the backend's answer and the journal, the same report delivered twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from drivers.backend_client import HttpBackend
from drivers.station import BackendAccess
from tests.e2e.faultproxy import FaultProxy
from tests.e2e.rig import BackendProcess, kiosk

HERE = Path(__file__).parent
DEAD = "http://127.0.0.1:9"  # nothing listens here: connection refused


def self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def stored_ids(backend: BackendProcess) -> list[str]:
    return [s["session_id"] for s in backend.sessions()]


def test_a_certificate_the_kiosk_does_not_trust_delivers_nothing_until_it_is_trusted(
    backend: BackendProcess, workdir: Path, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    before = stored_ids(backend)
    with FaultProxy(backend.url, cert=(cert, key)) as proxy:
        untrusted = BackendAccess(proxy.url, backend.token)
        with kiosk(workdir, untrusted, hold=3000) as k:
            sid = k.charge_by_card(seconds=60)
            k.advance(120, step=30)
            reporting = k.snap.reporting
            assert reporting is not None and reporting.outbox_queued == 1
            assert "CERTIFICATE_VERIFY_FAILED" in (reporting.outbox_last_error or "")
            assert k.snap.qr_available is False
            resume_at = k.clock.now()
        assert proxy.forwarded_reports == 0  # nothing reached the backend over that link
        trusted = BackendAccess(proxy.url, backend.token, ca_bundle=cert)
        with kiosk(workdir, trusted, hold=3000, start=resume_at) as k:
            k.advance(2)
            assert k.snap.reporting is not None and k.snap.reporting.outbox_queued == 0
    new = [s for s in stored_ids(backend) if s not in before]
    assert new == [sid]
    print(f"\ndrill wrong-certificate: sessions=1 refused_handshakes>=1 stored={len(new)} lost=0")


def test_killed_between_the_backends_answer_and_the_journal_then_the_same_report_twice(
    workdir: Path, tmp_path: Path
) -> None:
    with kiosk(workdir, BackendAccess(DEAD, "no-backend"), hold=3000) as k:
        sids = [k.charge_by_card(seconds=60) for _ in range(3)]
    journal = workdir / "state" / "journal.db"
    backend = BackendProcess(tmp_path / "backend").start()
    try:
        with FaultProxy(backend.url) as proxy:
            kills = 0
            # Each run is killed right after the backend stored a record and before the
            # journal heard of it; the next run starts with that record again (a replay).
            for n in (1, 2, 2):
                died = run_sender(journal, proxy.url, backend.token, n)
                assert died.returncode == -signal.SIGKILL
                kills += 1
                assert len(stored_ids(backend)) == kills
            done = run_sender(journal, proxy.url, backend.token, 0)
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout)["delivered"] == 1  # only the last killed one
            assert stored_ids(backend) == sids  # each once, in order
            sends = proxy.forwarded_reports

            # The same report again, with its key and with a new key: nothing new stored.
            client = HttpBackend(backend.url, backend.token, time_zone="Europe/Berlin")
            rows = sqlite_rows(journal)
            key, payload, first_answer = rows[0]
            again = client.report("session", key, json.loads(payload))
            other_key = client.report(
                "session", "session:replayed-from-backup", json.loads(payload)
            )
            client.close()
            assert again.accepted and other_key.accepted
            assert again.body == json.loads(first_answer)
            assert stored_ids(backend) == sids
    finally:
        backend.stop()
    print(
        f"\ndrill kill-9-during-delivery: sessions={len(sids)} kills={kills} sends={sends}"
        f" stored={len(sids)} duplicates=0 lost=0; same report twice: stored once"
    )


def run_sender(
    journal: Path, url: str, token: str, kill_after: int
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(HERE / "deliver_and_die.py"),
            str(journal),
            url,
            token,
            str(kill_after),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def sqlite_rows(journal: Path) -> list[tuple[str, str, str]]:
    import sqlite3

    with sqlite3.connect(journal) as conn:
        return list(
            conn.execute(
                "SELECT idempotency_key, payload_json, ack_json FROM outbox ORDER BY id"
            ).fetchall()
        )
