"""Where the kiosk keeps its files: the station config, the journal, the logs.

One rule, in this order, so an installer can predict it:

1. ``EVKIOSK_HOME`` set: everything below it (``config/``, ``data/``, ``logs/``). Handy for a
   second station on one machine, a demo, or a test.
2. Started by systemd with ``ConfigurationDirectory=``/``StateDirectory=``/``LogsDirectory=``:
   the directories systemd created (``/etc/evkiosk``, ``/var/lib/evkiosk``, ``/var/log/evkiosk``).
3. Otherwise the user's platform directories (platformdirs), e.g. ``~/.config/evkiosk``.

The journal's own location is the config's ``[station] journal`` key (relative to the config
file); ``data`` is where the installer puts the config's journal and where backups go.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "evkiosk"
HOME_ENV = "EVKIOSK_HOME"
CONFIG_ENV = "EVKIOSK_CONFIG"
CONFIG_FILE_NAME = "station.toml"


@dataclass(frozen=True, slots=True)
class DataPaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path
    origin: str  # "EVKIOSK_HOME", "systemd" or "platformdirs": said by `status` and `doctor`

    @property
    def config_file(self) -> Path:
        return self.config_dir / CONFIG_FILE_NAME

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"


def _first(value: str | None) -> Path | None:
    # systemd passes a colon-separated list when a unit names several directories.
    if not value:
        return None
    return Path(value.split(":", 1)[0])


def data_paths(env: Mapping[str, str] | None = None) -> DataPaths:
    env = os.environ if env is None else env
    home = env.get(HOME_ENV)
    if home:
        base = Path(home).expanduser()
        return DataPaths(base / "config", base / "data", base / "logs", HOME_ENV)
    state = _first(env.get("STATE_DIRECTORY"))
    if state is not None:
        config = _first(env.get("CONFIGURATION_DIRECTORY")) or Path("/etc") / APP_NAME
        logs = _first(env.get("LOGS_DIRECTORY")) or state / "logs"
        return DataPaths(config, state, logs, "systemd")
    return DataPaths(
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        "platformdirs",
    )


def config_file(explicit: str | Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The station config to use: --config, else $EVKIOSK_CONFIG, else the config dir's file."""
    if explicit:
        return Path(explicit)
    env = os.environ if env is None else env
    from_env = env.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    return data_paths(env).config_file
