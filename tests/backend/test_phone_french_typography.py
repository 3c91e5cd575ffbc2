"""French typography on the phone pages and in the kiosk's French texts: a no-break space
before ":" and "%", a narrow no-break space before ";", "?" and "!", and amounts written
"6,25 €" with a no-break space (never a plain one, never none), so a line never breaks
between a word and its colon or between a number and its euro sign."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html.parser import HTMLParser

from backend.texts import FIELD_ERRORS_FR, FIELD_LABELS_FR, RECEIPT_FR, TEXTS, field_error
from kiosk.tariff import parse_tariff, price_lines, wording
from tests.backend.conftest import Backend, tariff
from tests.backend.steps import card, link_body, report, session_body

NBSP, NNBSP = "\u00a0", "\u202f"
# A mark that needs a space before it, and what stands there; ":" between digits (17:00) and
# in an address (https://) is no punctuation.
_MARK = re.compile(r"(.?)([:;?!%])")
_AMOUNT = re.compile(r"\d[\d\s\u00a0\u202f.,]*\s*[€$£]")
_GOOD_AMOUNT = re.compile(r"^-?\d{1,3}(?:\u202f\d{3})*(?:,\d+)?\u00a0[€$£]$")


def french_typography_problems(text: str) -> list[str]:
    """What is wrong with ``text`` by French typography; [] when nothing is."""
    problems: list[str] = []
    for m in _MARK.finditer(text):
        before, mark = m.group(1), m.group(2)
        after = text[m.end() : m.end() + 2]
        if mark == ":" and (before.isdigit() or after.startswith("//") or after[:1].isdigit()):
            continue
        wanted = NBSP if mark in ":%" else NNBSP
        if before != wanted and not (mark in ":%" and before == NNBSP):
            shown = {" ": "a plain space", "": "the start"}.get(before, repr(before))
            problems.append(f"{mark!r} after {shown} in {text!r}")
    for m in _AMOUNT.finditer(text):
        if not _GOOD_AMOUNT.match(m.group(0)):
            problems.append(f"amount {m.group(0)!r} in {text!r}")
    return problems


class _Text(HTMLParser):
    """The text a person sees in <main> (and the page title)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._in = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in += tag in ("main", "title")

    def handle_endtag(self, tag: str) -> None:
        self._in -= tag in ("main", "title")

    def handle_data(self, data: str) -> None:
        if self._in and data.strip():
            self.parts.append(data.strip())


def visible_texts(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


def test_the_checker_finds_what_a_plain_keyboard_types() -> None:
    assert french_typography_problems("Énergie\u00a0: 0,59\u00a0€ par kWh\u202f; 19\u00a0%") == []
    assert french_typography_problems("de 17:00 à 21:00, https://example.org") == []
    assert len(french_typography_problems("Énergie : 0,59 € ; merci !")) == 4
    assert len(french_typography_problems("Énergie: 19% Merci?")) == 3
    assert french_typography_problems("1\u202f234,56\u00a0€") == []
    assert french_typography_problems("1 234,56\u00a0€") != []


def test_every_french_string_of_the_kiosk_and_the_phone_pages() -> None:
    with open(wording.I18N_DIR / "fr.json", encoding="utf-8") as f:
        kiosk = json.load(f)["strings"]
    strings = {f"fr.json {k}": v for k, v in kiosk.items()}
    for name, table in (
        ("TEXTS", TEXTS["fr"]),
        ("RECEIPT_FR", RECEIPT_FR),
        ("FIELD_LABELS_FR", FIELD_LABELS_FR),
        ("FIELD_ERRORS_FR", FIELD_ERRORS_FR),
    ):
        strings.update({f"{name} {k}": v for k, v in table.items()})
    strings["field_error"] = field_error("fr", "Expiry", "use the form MM/YY")
    problems = [
        f"{key}: {p}" for key, text in strings.items() for p in french_typography_problems(text)
    ]
    assert problems == []


def test_french_price_lines_from_the_tariff_wording() -> None:
    rich = parse_tariff(json.loads(json.dumps(tariff()), parse_float=Decimal))
    words = wording.load_words("fr")
    texts = [wording.line_text(line, words, with_vat=True) for line in price_lines(rich)]
    texts.append(words.money_value(Decimal("1234.5"), "EUR"))
    assert any(f"{NNBSP}; " in t for t in texts)  # the parking line has two details
    assert [p for t in texts for p in french_typography_problems(t)] == []


def test_the_french_pay_page_and_receipt(sqlite_backend: Backend) -> None:
    with sqlite_backend.station("ST-FR") as st:
        link = st.post(
            "/api/v1/payment-links", json=link_body(123456, time_zone="Europe/Paris")
        ).json()
        body = report(st, session_body("S-FR-1", card(1)))
    with sqlite_backend.client() as c:
        pay = c.get(f"/pay/{link['id']}?lang=fr").text
        declined = c.post(
            f"/pay/{link['id']}?lang=fr",
            data={"card_number": "4242424242424242", "expiry": "13/30", "cvc": "123"},
        ).text
        receipt = c.get(body["receipt_url"].replace(sqlite_backend.url, "") + "?lang=fr").text
    texts = visible_texts(pay) + visible_texts(declined) + visible_texts(receipt)
    assert "1\u202f234,56\u00a0€" in pay  # the hold, grouped as French writes it
    assert "6,25\u00a0€" in receipt and "EUR" not in "".join(visible_texts(receipt))
    assert any(t.startswith(f"Date d'expiration{NBSP}:") for t in visible_texts(declined))
    assert [p for t in texts for p in french_typography_problems(t)] == []
