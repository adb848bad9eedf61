"""Timbre Studio desktop (PySide6). Never imports torch or backend internals."""

__version__ = "0.1.0"
