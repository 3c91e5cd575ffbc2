"""Hardware drivers (ZVT card terminal, Modbus meter, charge controller) and their simulators."""
