"""One widget per screen. Each renders a snapshot and turns taps into intents, nothing more."""
