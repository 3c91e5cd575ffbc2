"""Fonts, icons, translations and sample data shipped with the kiosk."""
