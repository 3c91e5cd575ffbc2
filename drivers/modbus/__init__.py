"""Modbus plumbing shared by the meter and charge-controller drivers and their simulators.

endpoint (PORT strings), bus (one owner per physical bus), registermap (model files in maps/),
planner (block reads with fallback), health (device state for the runtime and doctor).
"""
