"""JSON fixtures and helpers for the tariff engine tests."""
