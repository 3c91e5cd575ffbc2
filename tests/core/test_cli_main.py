"""The `evkiosk` dispatcher: help, version, unknown commands, lazy loading."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kiosk.cli import main as cli


def test_overview_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    for command in cli.COMMANDS:
        assert command.name in out
        assert command.summary in out


def test_no_arguments_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == cli.EXIT_USAGE
    assert "usage: evkiosk" in capsys.readouterr().out


def test_unknown_command_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["frobnicate"]) == cli.EXIT_USAGE
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == cli.EXIT_OK
    assert capsys.readouterr().out.startswith("evkiosk ")


def test_command_modules_exist_with_the_command_interface() -> None:
    for command in cli.COMMANDS:
        module = cli._load(command)
        if module is None:
            continue  # not built yet: main() reports that clearly
        assert callable(module.add_arguments), command.name
        assert callable(module.run), command.name


def test_console_script_runs_without_importing_qt() -> None:
    # The dispatcher must stay light: a pricing or installer command never pays for Qt.
    code = (
        "import sys; from kiosk.cli import main as m; m.main(['--help']); "
        "sys.exit(1 if 'PySide6' in sys.modules else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
