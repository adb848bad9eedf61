"""Real-time conversion commands.

- ``live.devices`` {} -> {host_apis, devices, default_input, default_output}; error
  ``unavailable`` when PortAudio is missing.
"""

from __future__ import annotations

from typing import Any

from backend.commands import command


@command("live.devices")
def live_devices(args: dict, server: Any) -> dict:
    from backend.live import devices

    return devices.list_all()
