"""Test doubles of the device protocols and builders for the core's tests (core tests only)."""
