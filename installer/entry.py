"""The frozen app's entry point: one executable for the window and the backend.

``TimbreStudio`` starts the window (``python -m desktop``); ``TimbreStudio backend
<args>`` is ``python -m backend <args>``, which is how the window starts its backend
when frozen (``backend.resources.backend_command``). The backend branch is decided
before anything imports Qt, and the window branch never imports torch.
"""

from __future__ import annotations

import multiprocessing
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["backend"]:
        from backend.__main__ import main as backend_main

        return backend_main(argv[1:])
    from desktop.__main__ import main as desktop_main

    return desktop_main(argv)


if __name__ == "__main__":
    # spawned worker processes of the frozen backend re-enter here: let them run
    multiprocessing.freeze_support()
    sys.exit(main())
