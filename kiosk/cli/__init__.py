"""Command-line entry point and the core's own subcommands."""
