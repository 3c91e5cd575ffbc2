"""Charge controllers: the Modbus driver, normalising vendor states to IEC 61851."""
