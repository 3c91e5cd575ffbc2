"""The station's TOML configuration: one file, validated, every error with key and line."""

from kiosk.config.load import ConfigError, ConfigProblem, load_config
from kiosk.config.model import (
    BackendConfig,
    ConnectorConfig,
    DeviceConfig,
    OcppConfig,
    StationConfig,
)

__all__ = [
    "BackendConfig",
    "ConfigError",
    "ConfigProblem",
    "ConnectorConfig",
    "DeviceConfig",
    "OcppConfig",
    "StationConfig",
    "load_config",
]
