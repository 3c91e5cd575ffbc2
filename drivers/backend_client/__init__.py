"""The kiosk's HTTP client for the operator backend (kiosk.devices.Backend)."""

from drivers.backend_client.client import BackendRejected, HttpBackend

__all__ = ["BackendRejected", "HttpBackend"]
