"""The operator's service: payment links, pay page, session ingest, receipts, reconciliation."""
