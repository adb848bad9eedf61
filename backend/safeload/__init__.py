"""Every model file the backend reads (``.pth``, ``.pt``, ``.ckpt``, ``.bin``) is someone
else's pickle: this package is the only code that unpickles one.

``load_weights(path)`` for plain weight files (pretrained bases, checkpoints, RMVPE, CREPE,
voice models); ``load_fairseq(path)`` for fairseq checkpoints (HuBERT/ContentVec), whose
metadata comes back as plain dicts; ``mmap=True`` leaves tensor data on disk until used.
Both raise ``UnsafeFile`` (the file names a class or asks for an operation no model file
needs) or ``UnreadableFile`` (damaged, or no PyTorch file), ``SafeLoadError`` subclasses
whose message names the file; a missing file raises ``FileNotFoundError``.
"""

from backend.safeload.errors import SafeLoadError, UnreadableFile, UnsafeFile
from backend.safeload.loader import load_fairseq, load_weights

__all__ = ["SafeLoadError", "UnreadableFile", "UnsafeFile", "load_fairseq", "load_weights"]
