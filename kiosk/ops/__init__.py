"""Operator tooling shared by `evkiosk status`, `evkiosk journal` and `evkiosk doctor`."""
