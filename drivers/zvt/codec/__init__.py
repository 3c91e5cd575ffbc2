"""ZVT bytes ↔ values: APDU framing, BMP fields, TLV containers, character sets.

Strict when sending (encoders refuse values that do not fit), tolerant when receiving
(unknown TLV tags are kept and skipped, unknown BMPs end the field list without failing).
"""
