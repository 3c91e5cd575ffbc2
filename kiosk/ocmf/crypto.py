"""Signing and verifying OCMF payloads (ECDSA over SHA-256 of the payload bytes as they are).

Public keys are accepted as meters and verifiers write them: hex or base64 of the DER
SubjectPublicKeyInfo (the form the Transparenzsoftware reads, "3059301306072A8648CE3D02..."),
or the bare uncompressed point (`04‖X‖Y`, or `X‖Y` as some meters hold it in registers).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.ocmf.record import OcmfError, OcmfRecord, assemble, build_payload

DEFAULT_ALGORITHM = "ECDSA-secp256r1-SHA256"
# OCMF's algorithm names and their curves (secp192k1 is not offered by `cryptography`).
CURVES: Mapping[str, ec.EllipticCurve] = {
    "ECDSA-secp256r1-SHA256": ec.SECP256R1(),
    "ECDSA-secp256k1-SHA256": ec.SECP256K1(),
    "ECDSA-secp384r1-SHA256": ec.SECP384R1(),
    "ECDSA-brainpool256r1-SHA256": ec.BrainpoolP256R1(),
    "ECDSA-brainpoolP384r1-SHA256": ec.BrainpoolP384R1(),
}


def _decode_bytes(text: str, field: str) -> bytes:
    text = text.strip()
    try:
        return bytes.fromhex(text)
    except ValueError:
        pass
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise OcmfError(field, "is neither hex nor base64") from None


def load_public_key(text: str, algorithm: str = DEFAULT_ALGORITHM) -> ec.EllipticCurvePublicKey:
    """A public key from hex/base64 DER, or a raw point on `algorithm`'s curve."""
    curve = _curve(algorithm, "public key")
    raw = _decode_bytes(text, "public key")
    size = (curve.key_size + 7) // 8  # bytes per coordinate
    try:
        # By length first: a raw X‖Y (a WM3M4C's register area) may begin with any byte,
        # 0x04 or 0x30 (a DER sequence's tag) included.
        if len(raw) == 2 * size:
            return ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + raw)
        if raw[:1] == b"\x30":
            key = serialization.load_der_public_key(raw)
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise OcmfError("public key", "is not an elliptic-curve key")
            return key
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, raw)  # 04‖X‖Y, or 02/03‖X
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise OcmfError("public key", f"is not a key on {algorithm} ({exc})") from None


def public_key_hex(key: ec.EllipticCurvePublicKey) -> str:
    """The DER SubjectPublicKeyInfo in upper-case hex: what the Transparenzsoftware reads."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der.hex().upper()


def _curve(algorithm: str, field: str) -> ec.EllipticCurve:
    curve = CURVES.get(algorithm)
    if curve is None:
        raise OcmfError(field, f"algorithm {algorithm!r} is not supported ({', '.join(CURVES)})")
    return curve


def sign_payload(
    payload_text: str, key: ec.EllipticCurvePrivateKey, algorithm: str = DEFAULT_ALGORITHM
) -> str:
    """A complete record: the payload text unchanged, signed with `key` (DER signature, hex)."""
    _curve(algorithm, "signature.SA")
    signature = key.sign(payload_text.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    section = {"SA": algorithm, "SE": "hex", "SM": "application/x-der", "SD": signature.hex()}
    return assemble(payload_text, section)


def sign_fields(fields: Mapping[str, object], key: ec.EllipticCurvePrivateKey) -> str:
    return sign_payload(build_payload(fields), key)


def verify(record: OcmfRecord, public_key: str | ec.EllipticCurvePublicKey) -> bool:
    """True if the signature over the payload bytes verifies with `public_key`.

    A malformed signature section raises `OcmfError`; a wrong key or a changed payload is
    simply False.
    """
    algorithm = str(record.signature.get("SA") or DEFAULT_ALGORITHM)
    _curve(algorithm, "signature.SA")
    key = public_key if not isinstance(public_key, str) else load_public_key(public_key, algorithm)
    encoding = record.signature.get("SE") or "hex"
    sd = record.signature_data
    try:
        sig = bytes.fromhex(sd) if encoding == "hex" else base64.b64decode(sd, validate=True)
    except (ValueError, binascii.Error):
        raise OcmfError("signature.SD", f"is not {encoding}") from None
    try:
        key.verify(sig, record.payload_text.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
