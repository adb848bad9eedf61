"""Every file dialog of the app: it opens in the folder last used for its purpose.

Purposes (``AppSettings.last_folder`` keys): ``open_project``, ``new_project``,
``import`` (recordings), ``encoder`` (a content-encoder file), ``pretrained`` (base
weights), ``asset_import`` (model files for the asset manager), ``export <project>``
(exports, per project; the default is the project's ``export/`` folder), and the Convert
page's ``voice_model`` (a model to import), ``convert_input`` (recordings to convert),
``convert_out`` (the output folder) and ``convert_save`` (Save as), and the Labels page's
``labels_import`` and ``labels_export`` (transcript files) and ``transcribe_model`` (a folder
holding a transcription model), and the Speak page's ``tts_model`` (a text-to-speech model
to import) and ``speak_save`` (Save as). Without
``AppSettings`` a dialog starts in ``default`` (else the home folder) and remembers
nothing.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from desktop.components.settings import AppSettings

MODEL_FILTER = "Model files (*.pt *.pth *.bin *.safetensors *.json);;All (*)"


def start_folder(settings: AppSettings | None, purpose: str, default: str | None = None) -> str:
    if settings is None:
        return default if default and Path(default).is_dir() else str(Path.home())
    return settings.last_folder(purpose, default if default and Path(default).is_dir()
                                else None)


def _remember(settings: AppSettings | None, purpose: str, folder: str | Path) -> None:
    if settings is not None:
        settings.set_last_folder(purpose, str(folder))


def open_file(parent: QWidget | None, settings: AppSettings | None, purpose: str, title: str,
              filters: str = "All (*)", default: str | None = None) -> str:
    """One existing file ("" when cancelled)."""
    path, _ = QFileDialog.getOpenFileName(parent, title, start_folder(settings, purpose,
                                                                      default), filters)
    if path:
        _remember(settings, purpose, Path(path).parent)
    return path


def open_files(parent: QWidget | None, settings: AppSettings | None, purpose: str, title: str,
               filters: str = "All (*)") -> list[str]:
    files, _ = QFileDialog.getOpenFileNames(parent, title, start_folder(settings, purpose),
                                            filters)
    if files:
        _remember(settings, purpose, Path(files[0]).parent)
    return list(files)


def open_folder(parent: QWidget | None, settings: AppSettings | None, purpose: str, title: str,
                *, remember_parent: bool = False, start: str | None = None) -> str:
    """A folder ("" when cancelled); ``remember_parent`` keeps the folder above it (a
    project folder is opened from the folder that holds the projects)."""
    folder = QFileDialog.getExistingDirectory(parent, title,
                                              start or start_folder(settings, purpose))
    if folder:
        _remember(settings, purpose, Path(folder).parent if remember_parent else folder)
    return folder


def save_file(parent: QWidget | None, settings: AppSettings | None, purpose: str, title: str,
              file_name: str, filters: str, default: str | None = None) -> str:
    """A file to write ("" when cancelled), starting as ``file_name`` in the last folder
    of ``purpose`` (else ``default``, which need not exist yet)."""
    folder = default or str(Path.home())
    if settings is not None:
        folder = settings.last_folder(purpose, folder)
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path(folder) / file_name), filters)
    if path:
        _remember(settings, purpose, Path(path).parent)
    return path
