"""The four-ledger money drill: generated sessions, a kiosk killed at every step, and the
screen, the journal, the terminal and the backend compared after each run (see docs/core.md)."""
