"""Energy meters: the Modbus driver and its plausibility checks."""
