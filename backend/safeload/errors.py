"""What a refused or unreadable model file reports (each message names the file by the path
the caller gave)."""

from __future__ import annotations

from pathlib import Path

ADVICE = "Download the file again or import it from a trusted source."


class SafeLoadError(ValueError):
    """A model file was not loaded; ``str()`` is a sentence for the user."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class UnsafeFile(SafeLoadError):
    """The file asks for a class or an operation a model file has no reason to contain."""

    def __init__(self, path: Path, what: str, *, is_class: bool = True) -> None:
        self.what = what
        if is_class:
            text = (f"{path} holds a Python object of class {what} that a model file has "
                    "no reason to contain; it was not loaded.")
        else:
            text = (f"{path} holds pickled instructions that a model file has no reason "
                    f"to contain ({what}); it was not loaded.")
        super().__init__(f"{text} {ADVICE}", path)


class UnreadableFile(SafeLoadError):
    """Not a PyTorch file at all, or a damaged one."""

    def __init__(self, path: Path, reason: str) -> None:
        self.reason = reason
        super().__init__(f"{path} is not a readable PyTorch file ({reason}); it may be "
                         "damaged or not a model file.", path)
