"""Delivery of journaled records (sessions, payments, end-of-day totals) to the backend."""
