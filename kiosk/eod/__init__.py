"""End-of-day on the kiosk: the terminal's batch totals compared with the journal, per brand."""
