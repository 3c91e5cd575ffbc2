"""The headless runtime: the machine thread, the device owner threads and what connects them."""
