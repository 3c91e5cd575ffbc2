"""Jinja2 templates of the pay, status, receipt and reconciliation pages."""
