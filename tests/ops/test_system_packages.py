"""One list of system packages (scripts/system-packages.txt) for the README, setup.sh and CI;
setup.sh checks it before any pip install and prints the exact apt-get line."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIST = ROOT / "scripts" / "system-packages.sh"


def packages(*args: str, env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        [str(LIST), *args], capture_output=True, text=True, timeout=30, check=True, env=env
    )
    return done.stdout.split()


def test_the_list_has_what_a_desktop_run_needs_and_the_peers_apart() -> None:
    needed, peers = packages(), packages("--peers")
    assert {"python3-venv", "libegl1", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0"} <= set(
        needed
    )
    assert {"chromium", "chromium-driver", "postgresql", "mbpoll", "zbar-tools"} <= set(peers)
    assert "chromedriver" not in needed + peers  # Debian's package is chromium-driver
    assert not set(needed) & set(peers)
    assert packages("--all") == needed + peers


def test_readme_setup_and_ci_all_read_the_one_list() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "sudo apt-get install $(scripts/system-packages.sh)" in readme
    assert "sudo apt-get install $(scripts/system-packages.sh --peers)" in readme
    assert "scripts/system-packages.sh --missing" in (ROOT / "scripts" / "setup.sh").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/system-packages.sh --all --missing" in ci
    assert not re.search(r"\blibxcb-\w+", ci)  # no second list to drift


def test_setup_names_the_missing_packages_before_installing_anything(tmp_path: Path) -> None:
    # A dpkg that knows nothing: everything is missing. setup.sh must stop before pip.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")
    (fake / "dpkg-query").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "EVKIOSK_NO_APT": "1"}
    done = subprocess.run(
        [str(ROOT / "scripts" / "setup.sh")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 1
    line = f"sudo apt-get install {' '.join(packages(env=env))}"
    assert line in done.stderr
    assert "installing" not in done.stdout  # no venv, no pip
