"""What the pay, status and receipt pages say, in English, German and French (data, not code).

The language is the one the driver chose at the kiosk (its QR code carries ?lang=), else the
phone's Accept-Language; English is the fallback.
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("en", "de", "fr")

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
        "valid_until": "This link is valid until {when} (local time).",
        "line_energy": "Energy: {price} per kWh",
        "line_time": "Charging time: {price} per hour",
        "line_parking_time": "Parking (connected, not charging): {price} per hour",
        "line_flat": "Session fee: {price} per session",
        "line_min_price": "Minimum price per session: {price}",
        "line_max_price": "Maximum price per session: {price}",
        "vat_note": "All prices include {rate} % VAT.",
        "sandbox_note": (
            "Test payment page: no real card is charged. Use the test card 4242 4242 4242 4242."
        ),
        "card_number": "Card number",
        "expiry": "Expiry",
        "cvc": "CVC",
        "pay": "Pay",
        "or_card": "or pay by card:",
        "confirming": "Confirming your payment|This page updates itself in a moment.",
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
        "valid_until": "Dieser Link gilt bis {when} (Ortszeit).",
        "line_energy": "Energie: {price} pro kWh",
        "line_time": "Ladezeit: {price} pro Stunde",
        "line_parking_time": "Standzeit (angesteckt, ohne Laden): {price} pro Stunde",
        "line_flat": "Grundgebühr: {price} pro Ladevorgang",
        "line_min_price": "Mindestpreis pro Ladevorgang: {price}",
        "line_max_price": "Höchstpreis pro Ladevorgang: {price}",
        "vat_note": "Alle Preise inkl. {rate} % MwSt.",
        "sandbox_note": (
            "Testseite: Es wird keine echte Karte belastet. Testkarte: 4242 4242 4242 4242."
        ),
        "card_number": "Kartennummer",
        "expiry": "Gültig bis",
        "cvc": "Prüfnummer (CVC)",
        "pay": "Bezahlen",
        "or_card": "oder mit Karte bezahlen:",
        "confirming": "Zahlung wird bestätigt|Diese Seite aktualisiert sich gleich selbst.",
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
    "fr": {
        "pay_title": "Payer la recharge",
        "station": "Borne",
        "connector": "point de charge",
        "price": "Prix",
        "hold_before": "Nous réservons",
        "hold_after": (
            "sur votre carte avant la charge. Vous ne payez que ce que vous chargez\u202f; "
            "le reste de la réservation est libéré à la fin de la session."
        ),
        "valid_until": "Ce lien est valable jusqu'au {when} (heure locale).",
        "line_energy": "Énergie\u00a0: {price} par kWh",
        "line_time": "Temps de charge\u00a0: {price} par heure",
        "line_parking_time": "Stationnement (branché, sans charge)\u00a0: {price} par heure",
        "line_flat": "Frais de session\u00a0: {price} par session",
        "line_min_price": "Prix minimum par session\u00a0: {price}",
        "line_max_price": "Prix maximum par session\u00a0: {price}",
        "vat_note": "Tous les prix incluent {rate}\u00a0% de TVA.",
        "sandbox_note": (
            "Page de test\u00a0: aucune vraie carte n'est débitée. "
            "Carte de test\u00a0: 4242 4242 4242 4242."
        ),
        "card_number": "Numéro de carte",
        "expiry": "Date d'expiration",
        "cvc": "Cryptogramme (CVC)",
        "pay": "Payer",
        "or_card": "ou payer par carte\u00a0:",
        "confirming": "Confirmation du paiement|Cette page se met à jour dans un instant.",
        "authorized": "Paiement accepté|Retournez à la borne\u00a0: la charge peut commencer.",
        "captured": "Session payée|Cette session de charge est payée. Merci.",
        "released": "Réservation libérée|La réservation sur votre carte a été libérée.",
        "expired": "Lien expiré|Ce lien de paiement a expiré. Recommencez à la borne.",
        "cancelled": "Annulé|Ce paiement a été annulé à la borne.",
        "not_found": "Lien inconnu|Ce lien de paiement n'existe pas. Scannez à nouveau le code.",
        "unavailable": (
            "Paiement impossible|Le paiement n'a pas pu être lancé. Veuillez réessayer."
        ),
        "receipt_missing": "Reçu introuvable|Aucun reçu à cette adresse.",
        "receipt_pending": (
            "Reçu pas encore disponible|La borne n'a pas encore transmis cette session. "
            "Veuillez rouvrir cette adresse plus tard."
        ),
        "card_declined": "Votre carte a été refusée. Essayez une autre carte.",
        "insufficient_funds": "Provision insuffisante. Essayez une autre carte.",
        "expired_card": "Votre carte a expiré. Essayez une autre carte.",
        "incorrect_cvc": "Le cryptogramme est incorrect. Vérifiez-le et réessayez.",
        "processing_error": "Le paiement n'a pas pu être traité. Veuillez réessayer.",
        "card_not_in_sandbox": (
            "Cette page de test n'accepte que des cartes de test, comme 4242 4242 4242 4242."
        ),
        "too_many_declines": "Trop de tentatives refusées. Recommencez à la borne.",
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
# The receipt's plain-language guide to checking a bill from signed meter data (Eichrecht).
OCMF_HOWTO: Final = (
    "The station's meter signed the start and end of this session. Download the free "
    "Transparenzsoftware (safe-ev.de), copy the signed record and the public key shown here "
    "into it and check: it shows \u201csignature valid\u201d and the meter readings at start "
    "and end. Their difference is the energy billed. The public key is also shown on the meter "
    "and registered with the Bundesnetzagentur. The kiosk's own display is for information only."
)

RECEIPT_DE: Final = {
    "Signed meter data (Eichrecht)": "Signierte Messdaten (Eichrecht)",
    "Meter": "Zähler",
    "Signed energy": "Signierte Energie",
    "Signed record (OCMF)": "Signierter Datensatz (OCMF)",
    "Public key of the meter": "Öffentlicher Schlüssel des Zählers",
    "No signed record for this session": (
        "Zu diesem Ladevorgang gibt es keinen signierten Datensatz"
    ),
    "How to check this bill": "So prüfen Sie diese Rechnung",
    OCMF_HOWTO: (
        "Der Zähler der Ladestation hat Anfang und Ende dieses Ladevorgangs signiert. "
        "Laden Sie die kostenlose Transparenzsoftware (safe-ev.de) herunter, kopieren Sie den "
        "signierten Datensatz und den öffentlichen Schlüssel hierher in das Programm und "
        "prüfen Sie: Die Software zeigt „Signatur gültig“ und die Zählerstände am Anfang und "
        "am Ende. Deren Differenz ist die berechnete Energie. Den öffentlichen Schlüssel finden "
        "Sie auch auf dem Zähler oder bei der Bundesnetzagentur. Die Anzeige am Kiosk dient nur "
        "der Information."
    ),
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
    "Not charged (after Stop, or above the reservation)": (
        "Nicht belastet (nach Stopp oder über der Reservierung)"
    ),
    "Refunded": "Erstattet",
    "Refund instructed": "Erstattung beauftragt",
    "To keep a copy, print this page or save it as PDF from your browser's menu.": (
        "Für eine Kopie diese Seite drucken oder im Browser-Menü als PDF speichern."
    ),
}

FIELD_LABELS_FR: Final = {
    "Card number": "Numéro de carte",
    "Expiry": "Date d'expiration",
    "CVC": "Cryptogramme",
}
FIELD_ERRORS_FR: Final = {
    "enter the 12 to 19 digits on the card": "saisissez les 12 à 19 chiffres de la carte",
    "this number is not valid, check the digits": "numéro non valable, vérifiez les chiffres",
    "use the form MM/YY": "utilisez le format MM/AA",
    "the month must be 01 to 12": "le mois doit être entre 01 et 12",
    "this card has expired": "cette carte a expiré",
    "enter the 3 or 4 digits on the back of the card": "saisissez les 3 ou 4 chiffres au dos",
}
RECEIPT_FR: Final = {
    "Receipt": "Reçu",
    "Charging receipt": "Reçu de charge",
    "Operator": "Opérateur",
    "Station": "Borne",
    "Connector": "Point de charge",
    "Session": "Session",
    "Start": "Début",
    "End": "Fin",
    "Energy": "Énergie",
    "Item": "Poste",
    "Net": "HT",
    "Gross": "TTC",
    "Total": "Total",
    "VAT included": "dont TVA",
    "Payment": "Paiement",
    "Session fee": "Frais de session",
    "Charging time": "Temps de charge",
    "Parking time": "Stationnement",
    "Minimum/maximum price adjustment": "Ajustement prix minimum/maximum",
    "Method": "Moyen de paiement",
    "card terminal": "terminal de paiement",
    "online payment": "paiement en ligne",
    "Terminal": "Terminal",
    "Reference": "Référence",
    "Card": "Carte",
    "Card number": "Numéro de carte",
    "Receipt no.": "Reçu n°",
    "Trace no.": "N° de trace",
    "Auth code": "Code d'autorisation",
    "Charged": "Débité",
    "Not charged (after Stop, or above the reservation)": (
        "Non débité (après l'arrêt ou au-delà de la réservation)"
    ),
    "Refunded": "Remboursé",
    "Refund instructed": "Remboursement demandé",
    "To keep a copy, print this page or save it as PDF from your browser's menu.": (
        "Pour garder une copie, imprimez cette page ou enregistrez-la en PDF depuis le menu "
        "de votre navigateur."
    ),
}
FIELD_LABELS: Final = {"de": FIELD_LABELS_DE, "fr": FIELD_LABELS_FR}
FIELD_ERRORS: Final = {"de": FIELD_ERRORS_DE, "fr": FIELD_ERRORS_FR}
RECEIPT_LABELS: Final = {"de": RECEIPT_DE, "fr": RECEIPT_FR}

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
    labels, errors = FIELD_LABELS.get(lang, {}), FIELD_ERRORS.get(lang, {})
    colon = "\u00a0:" if lang == "fr" else ":"  # French: a no-break space before the colon
    return f"{labels.get(field, field)}{colon} {errors.get(message, message)}"


def receipt_label(lang: str, english: str) -> str:
    return RECEIPT_LABELS.get(lang, {}).get(english, english)
