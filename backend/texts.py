"""What the pay, status and receipt pages say, in English and German (data, not code).

The language follows the phone's Accept-Language (or ?lang=); English is the fallback.
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("en", "de")

TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "pay_title": "Pay for charging",
        "station": "Station",
        "connector": "connector",
        "price": "Price",
        "hold_before": "We reserve",
        "hold_after": (
            "on your card before charging starts. You pay only for what you charge; the rest "
            "of the reservation is released when the session ends."
        ),
        "valid_until": "This link is valid until {when} (UTC).",
        "sandbox_note": (
            "Test payment page: no real card is charged. Use the test card 4242 4242 4242 4242."
        ),
        "card_number": "Card number",
        "expiry": "Expiry",
        "cvc": "CVC",
        "pay": "Pay",
        "authorized": "Payment approved|Go back to the charger: charging can start now.",
        "captured": "Session paid|This charging session has been paid. Thank you.",
        "released": "Reservation released|The reservation on your card was released.",
        "expired": "Link expired|This payment link has expired. Start again at the charger.",
        "cancelled": "Link cancelled|This payment was cancelled at the charger.",
        "not_found": "Link not found|This payment link does not exist. Scan the code again.",
        "unavailable": "Payment unavailable|The payment could not be started. Please try again.",
        "receipt_missing": "Receipt not found|No receipt has this address.",
        "receipt_pending": (
            "Receipt not here yet|The charger has not delivered this session yet. "
            "Please open this address again later."
        ),
        "card_declined": "Your card was declined. Try another card.",
        "insufficient_funds": "Your card has insufficient funds. Try another card.",
        "expired_card": "Your card has expired. Try another card.",
        "incorrect_cvc": "The CVC is incorrect. Check it and try again.",
        "processing_error": "The payment could not be processed. Please try again.",
        "card_not_in_sandbox": (
            "This test page accepts only test cards, such as 4242 4242 4242 4242."
        ),
        "too_many_declines": "Too many declined attempts. Start again at the charger.",
    },
    "de": {
        "pay_title": "Laden bezahlen",
        "station": "Ladestation",
        "connector": "Ladepunkt",
        "price": "Preis",
        "hold_before": "Wir reservieren",
        "hold_after": (
            "auf Ihrer Karte, bevor das Laden beginnt. Sie zahlen nur, was Sie laden; der Rest "
            "der Reservierung wird am Ende des Ladevorgangs freigegeben."
        ),
        "valid_until": "Dieser Link gilt bis {when} (UTC).",
        "sandbox_note": (
            "Testseite: Es wird keine echte Karte belastet. Testkarte: 4242 4242 4242 4242."
        ),
        "card_number": "Kartennummer",
        "expiry": "Gültig bis",
        "cvc": "Prüfnummer (CVC)",
        "pay": "Bezahlen",
        "authorized": "Zahlung bestätigt|Gehen Sie zurück zur Ladesäule: das Laden kann beginnen.",
        "captured": "Ladevorgang bezahlt|Dieser Ladevorgang ist bezahlt. Vielen Dank.",
        "released": "Reservierung freigegeben|Die Reservierung auf Ihrer Karte wurde freigegeben.",
        "expired": (
            "Link abgelaufen|Dieser Zahlungslink ist abgelaufen. Bitte "
            "an der Ladesäule neu beginnen."
        ),
        "cancelled": "Abgebrochen|Diese Zahlung wurde an der Ladesäule abgebrochen.",
        "not_found": (
            "Link unbekannt|Diesen Zahlungslink gibt es nicht. Bitte den Code neu scannen."
        ),
        "unavailable": (
            "Zahlung nicht möglich|Die Zahlung konnte nicht gestartet "
            "werden. Bitte erneut versuchen."
        ),
        "receipt_missing": "Beleg nicht gefunden|Unter dieser Adresse gibt es keinen Beleg.",
        "receipt_pending": (
            "Beleg noch nicht da|Die Ladesäule hat diesen Ladevorgang noch nicht übermittelt. "
            "Bitte öffnen Sie diese Adresse später noch einmal."
        ),
        "card_declined": "Ihre Karte wurde abgelehnt. Bitte eine andere Karte verwenden.",
        "insufficient_funds": "Deckung nicht ausreichend. Bitte eine andere Karte verwenden.",
        "expired_card": "Ihre Karte ist abgelaufen. Bitte eine andere Karte verwenden.",
        "incorrect_cvc": "Die Prüfnummer ist falsch. Bitte prüfen und erneut versuchen.",
        "processing_error": "Die Zahlung konnte nicht verarbeitet werden. Bitte erneut versuchen.",
        "card_not_in_sandbox": (
            "Diese Testseite nimmt nur Testkarten an, z. B. 4242 4242 4242 4242."
        ),
        "too_many_declines": "Zu viele abgelehnte Versuche. Bitte an der Ladesäule neu beginnen.",
    },
}

# Card form errors (backend.gateways.cards) by their English text.
FIELD_LABELS_DE: Final = {
    "Card number": "Kartennummer",
    "Expiry": "Gültig bis",
    "CVC": "Prüfnummer",
}
FIELD_ERRORS_DE: Final = {
    "enter the 12 to 19 digits on the card": "bitte die 12 bis 19 Ziffern der Karte eingeben",
    "this number is not valid, check the digits": "ungültige Nummer, bitte die Ziffern prüfen",
    "use the form MM/YY": "bitte im Format MM/JJ eingeben",
    "the month must be 01 to 12": "der Monat muss 01 bis 12 sein",
    "this card has expired": "diese Karte ist abgelaufen",
    "enter the 3 or 4 digits on the back of the card": "bitte die 3 oder 4 Ziffern eingeben",
}
# The receipt page's labels, by their English text.
RECEIPT_DE: Final = {
    "Receipt": "Beleg",
    "Charging receipt": "Ladebeleg",
    "Operator": "Betreiber",
    "Station": "Ladestation",
    "Connector": "Ladepunkt",
    "Session": "Ladevorgang",
    "Start": "Beginn",
    "End": "Ende",
    "Energy": "Energie",
    "Item": "Posten",
    "Net": "Netto",
    "Gross": "Brutto",
    "Total": "Summe",
    "VAT included": "enthaltene MwSt.",
    "Payment": "Zahlung",
    "Session fee": "Grundgebühr",
    "Charging time": "Ladezeit",
    "Parking time": "Standzeit",
    "Minimum/maximum price adjustment": "Ausgleich Mindest-/Höchstpreis",
    "Method": "Zahlart",
    "card terminal": "Kartenterminal",
    "online payment": "Online-Zahlung",
    "Terminal": "Terminal-ID",
    "Reference": "Referenz",
    "Card": "Karte",
    "Card number": "Kartennummer",
    "Receipt no.": "Beleg-Nr.",
    "Trace no.": "Trace-Nr.",
    "Auth code": "Autorisierungscode",
    "Charged": "Belastet",
    "To keep a copy, print this page or save it as PDF from your browser's menu.": (
        "Für eine Kopie diese Seite drucken oder im Browser-Menü als PDF speichern."
    ),
}

# Decline codes that share a text with another.
DECLINE_ALIASES: Final = {"lost_card": "card_declined", "stolen_card": "card_declined"}


def language(accept_language: str, override: str | None) -> str:
    if override in LANGUAGES:
        return str(override)
    first = accept_language.split(",", maxsplit=1)[0].strip().lower()[:2]
    return first if first in LANGUAGES else "en"


def heading_and_message(lang: str, key: str) -> tuple[str, str]:
    heading, _, message = TEXTS[lang][key].partition("|")
    return heading, message


def decline_text(lang: str, code: str) -> str:
    code = DECLINE_ALIASES.get(code, code)
    return TEXTS[lang].get(code, TEXTS[lang]["card_declined"])


def field_error(lang: str, field: str, message: str) -> str:
    if lang == "de":
        return f"{FIELD_LABELS_DE.get(field, field)}: {FIELD_ERRORS_DE.get(message, message)}"
    return f"{field}: {message}"


def receipt_label(lang: str, english: str) -> str:
    return RECEIPT_DE.get(english, english) if lang == "de" else english
