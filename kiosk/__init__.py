"""The kiosk core: money, tariffs, the session state machine, journal and runtime.

Pure Python. Imports no UI toolkit and no device library (checked by import-linter).
"""
