"""Meters that sign transactions (Eichrecht, OCMF): register maps as data, small protocol code.

`signing_map` loads a model's map (`maps/*.json`); `protocol` drives a transaction on the wire
(start with metadata and tariff text, end, read the record and signature, confirm the read) for
the two protocol families: Carlo Gavazzi EM580 and Iskra WM3M4C. Simulators: drivers.modbus_sim.
"""
