"""Static files served under /static."""
