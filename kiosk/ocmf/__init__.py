"""Open Charge Metering Format (OCMF 1.4): signed meter records for German calibration law.

`record` parses and builds the text form `OCMF|{payload}|{signature}` without ever re-serialising
the signed payload; `crypto` signs and verifies it (ECDSA, the `cryptography` package) and reads
public keys in the forms meters and the Transparenzsoftware use; `check` applies the rules a
verifier applies to one transaction (begin/end, status and error flags, monotonic values) and to
a meter's series of records (continuous pagination), and computes the signed energy.
"""

from kiosk.ocmf.record import OcmfError, OcmfRecord, Reading, build_payload, parse_ocmf

__all__ = ["OcmfError", "OcmfRecord", "Reading", "build_payload", "parse_ocmf"]
