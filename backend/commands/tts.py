"""Text-to-speech commands: ``tts.models``.

- ``tts.models {project?}`` -> ``{models: [TtsModel]}``: the project's exported TTS models
  (``export/*.pth``, ``*.zip``), then the TTS models of the library, by name. A TtsModel is
  ``{id, kind: "tts", name, path, config, source: "export"|"imported", language, speakers:
  [names], sample_rate, n_symbols, info, stored_dtype, size_bytes}`` (backend/convert/
  library.py); ``speakers``: the names in id order (a single-speaker model names its one
  speaker, or none).

Errors: ``not_found`` (the project), ``io_error``, ``bad_arguments``.
"""

from __future__ import annotations

from typing import Any

from backend.commands import CommandError, command, project_arg
from backend.fsutil import describe_os_error
from backend.protocol import E_IO


@command("tts.models")
def tts_models(args: dict, server: Any) -> dict:
    from backend.convert import library

    root = project_arg(args).root if args.get("project") not in (None, "") else None
    try:
        return {"models": library.list_models(root, "tts")}
    except OSError as exc:
        raise CommandError(describe_os_error(exc, "reading", library.library_dir()),
                           code=E_IO) from exc
