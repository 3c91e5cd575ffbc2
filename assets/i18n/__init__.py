"""Translations: one JSON file per language (see ui/i18n.py)."""
