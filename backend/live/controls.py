"""Live controls: what ``job.control`` may change in a running live job, and how."""

from __future__ import annotations

import dataclasses
from typing import Any

from backend.kernel import BadArgs
from backend.live.engine import Engine

SETTING_CONTROLS = ("key", "index_rate", "protect")
FLAG_CONTROLS = ("gate_db", "monitor", "bypass")
SIZE_CONTROLS = ("block", "crossfade", "extra")
RESTART_CONTROLS = ("model", "index", "encoder", "f0_method", "input_device", "output_device",
                    "input_host_api", "output_host_api", "exclusive", "input_file",
                    "output_file")


def apply_controls(engine: Engine, values: dict[str, Any]) -> dict[str, Any]:
    """Validate all, then apply: settings and flags at the next block, sizes by a buffer
    rebuild between blocks; what needs new streams or a new model is ``restart_needed``."""
    known = (*SETTING_CONTROLS, *FLAG_CONTROLS, *SIZE_CONTROLS, *RESTART_CONTROLS)
    unknown = [k for k in values if k not in known]
    if unknown:
        raise BadArgs(f"unknown control {', '.join(map(repr, unknown))}; live controls: "
                      f"{', '.join(known)}")
    settings = dataclasses.replace(engine.settings, **{k: values[k] for k in SETTING_CONTROLS
                                                       if k in values})
    settings.check()
    flags = {k: values[k] for k in FLAG_CONTROLS if k in values}
    if "gate_db" in flags and isinstance(flags["gate_db"], int | float) \
            and not isinstance(flags["gate_db"], bool):
        flags["gate_db"] = float(flags["gate_db"])
    dataclasses.replace(engine.config, **flags).check()
    sizes = {k: values[k] for k in SIZE_CONTROLS if k in values}
    if sizes:
        engine.reconfigure(**sizes)  # validates first
    engine.set_settings(settings)
    if flags:
        engine.set_flags(**flags)
    applied = {k: values[k] for k in values if k not in RESTART_CONTROLS}
    return {"applied": applied, "restart_needed": [k for k in values if k in RESTART_CONTROLS]}
