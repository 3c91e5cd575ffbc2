"""What of a terminal's message may appear in a log by value: a deny-by-default list.

A BMP or TLV tag named here as a value is a number, code, date or receipt total and is logged
as sent; a text is logged with every PAN-like digit run masked; the PAN field (BMP 22) is
logged masked. Everything else, including every BMP and tag this list does not know, is logged
by its number and length only: terminals add tags over time, and a new one may carry card data.
"""

from __future__ import annotations

PAN_BMP = 0x22
TLV_BMP = 0x06

VALUE_BMPS = frozenset(
    {
        0x01,  # timeout
        0x02,  # max status infos
        0x03,  # service byte
        0x04,  # amount
        0x05,  # pump number
        0x0B,  # trace number
        0x0C,  # time
        0x0D,  # date
        0x19,  # payment type
        0x27,  # result code
        0x29,  # terminal id
        0x37,  # original trace number
        0x49,  # currency code
        0x60,  # end-of-day totals
        0x87,  # receipt number
        0x88,  # turnover number
        0x8A,  # card type id
        0x8C,  # card type network
        0xA0,  # result code AS
        0xAA,  # date YYMMDD
        0xD2,  # card direction
        0xF0,  # display duration
        0xF9,  # beeps
        0xFA,  # card reader activation
        0xFC,  # dialog control
    }
)
TEXT_BMPS = frozenset(
    {
        0x2A,  # VU number
        0x3B,  # authorisation code
        0x3C,  # host text
        0x8B,  # card name
        *range(0xF1, 0xF9),  # display lines 1-8
    }
)

VALUE_TAGS = frozenset(
    {
        0x08,  # receipt number (in 23)
        0x09,  # print attribute
        0x0A,  # ZVT command (in 26)
        0x12,  # printer line width
        0x14,  # character set
        0x1A,  # maximum APDU length
        0x1B,  # diagnosis type
        0x27,  # character set
        0x41,  # card type id
        0x43,  # application id (AID)
        0x1F07,  # receipt type
        0x1F0B,  # maximum pre-authorisation amount
        0x1F0E,  # terminal date
        0x1F0F,  # terminal time
        0x1F15,  # card reading control
        0x1F16,  # extended error code
        0x1F1F,  # transaction identifier (receipt number sync)
        0x1F2B,  # long trace number
        0x1F60,  # allowed card technologies
        0x1F62,  # reference number identifier
        0x1F73,  # message sequence id
    }
)
TEXT_TAGS = frozenset(
    {
        0x07,  # text line
        0x1F17,  # extended error text
        0x1F40,  # device name
        0x1F41,  # software version
        0x1F42,  # serial number
        0x1F43,  # device state
        0x1F63,  # reference number (the kiosk's own session token)
    }
)
# Constructed tags whose items are judged one by one; any other constructed tag is opaque.
CONTAINER_TAGS = frozenset({0x23, 0x24, 0x25, 0x26, 0x34, 0x60, 0x62, 0xE4, 0xE9})
