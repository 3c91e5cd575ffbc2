"""Status icons (SVG) for the touchscreen."""
