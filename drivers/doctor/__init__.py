"""`evkiosk doctor`: every check an installer needs before the first driver arrives.

One module per family (config, serial ports, devices, backend, host clock and disk, journal);
each check returns `Check` lines with what was found and, on failure, what to do. `run_doctor`
runs them in order; a device is only asked once its port looked usable.
"""

from drivers.doctor.result import Check, Outcome
from drivers.doctor.runner import DoctorOptions, run_doctor

__all__ = ["Check", "DoctorOptions", "Outcome", "run_doctor"]
