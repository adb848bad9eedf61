"""The frozen app's entry point: one executable for the window and the backend.

``TimbreStudio`` starts the window (``python -m desktop``); ``TimbreStudio backend
<args>`` is ``python -m backend <args>``, which is how the window starts its backend
when frozen (``backend.resources.backend_command``). The backend branch is decided
before anything imports Qt, and the window branch never imports torch. When the window
cannot even be imported (a broken Qt), no Qt dialog is possible: the traceback goes to a
crash report in the log folder, to stderr and, on Windows, to a message box, so a
windowed executable never fails silently.
"""

from __future__ import annotations

import multiprocessing
import sys
import traceback


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["backend"]:
        from backend.__main__ import main as backend_main

        return backend_main(argv[1:])
    try:
        from desktop.__main__ import main as desktop_main
    except Exception:  # noqa: BLE001 (whatever it is, the user must be told)
        return _import_failed(traceback.format_exc())
    return desktop_main(argv)


def _import_failed(text: str) -> int:
    """The window's modules failed to import: save and show the traceback without Qt."""
    print(text, file=sys.stderr)
    message = "Timbre Studio could not start:\n\n" + text.strip().splitlines()[-1]
    try:
        from desktop.components.log_file import default_log_dir
        from desktop.components.startup_checks import write_report

        path = write_report("Timbre Studio could not load its window.\n\n" + text,
                            default_log_dir())
        message += f"\n\nThe report was saved as {path}."
        print(f"crash report: {path}", file=sys.stderr)
    except Exception:  # noqa: BLE001 (stderr and the box below are what is left)
        pass
    if sys.platform == "win32":
        import ctypes

        ctypes.windll.user32.MessageBoxW(None, message, "Timbre Studio", 0x10)  # MB_ICONERROR
    return 1


if __name__ == "__main__":
    # spawned worker processes of the frozen backend re-enter here: let them run
    multiprocessing.freeze_support()
    sys.exit(main())
