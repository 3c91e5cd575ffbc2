"""Installer command-line tools for the drivers."""
