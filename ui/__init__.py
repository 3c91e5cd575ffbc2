"""The touchscreen app. The only package that imports PySide6."""
