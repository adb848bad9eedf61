"""Help ▸ About: the versions of the app and of what the backend runs on (Qt-free).

The desktop never imports torch: the torch and CUDA versions and the devices come from
the backend's ``hello`` (torch, devices) and ``backend.ready`` (torch, cuda,
cuda_version) messages.
"""

from __future__ import annotations

from typing import Any

from backend.protocol import Hello


def _memory(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return ""
    return f"{value / 1024**3:.1f} GB"


def device_line(dev: dict[str, Any]) -> str:
    """``cuda:0: NVIDIA H200, 139.8 GB`` / ``CPU: AMD EPYC, 16 cores, 125.8 GB``."""
    name = str(dev.get("name") or dev.get("kind") or "?")
    label = "CPU" if dev.get("kind") == "cpu" else str(dev.get("id") or dev.get("kind") or "?")
    extra = [f"{dev['cores']} cores"] if isinstance(dev.get("cores"), int) else []
    extra += [m for m in (_memory(dev.get("memory_bytes")),) if m]
    return f"{label}: {name}" + (f", {', '.join(extra)}" if extra else "")


def cuda_text(ready: dict[str, Any]) -> str:
    if not ready:
        return "not known yet (the backend is still starting)"
    if ready.get("torch_error"):
        return f"unknown: torch could not be loaded ({ready['torch_error']})"
    if "cuda_version" not in ready:  # a backend from before the version was reported
        return "a GPU is usable" if ready.get("cuda") else "no usable GPU"
    version = ready.get("cuda_version")
    if not version:
        return "none (a CPU-only build of torch)"
    return f"{version}" + ("" if ready.get("cuda") else " (but torch sees no usable GPU)")


def about_lines(app_version: str, qt_version: str, hello: Hello | None,
                ready: dict[str, Any]) -> list[str]:
    """What the About box says, one fact a line."""
    lines = [f"Timbre Studio {app_version}", f"Qt for Python (PySide6) {qt_version}"]
    if hello is None:
        return [*lines, "Backend: not running"]
    torch = ready.get("torch") or hello.torch or "not installed"
    lines += [f"Backend {hello.backend or '?'} (protocol {hello.protocol}, process {hello.pid})",
              f"torch {torch}", f"CUDA: {cuda_text(ready)}", "Devices:"]
    lines += [f"  {device_line(d)}" for d in hello.devices] or ["  none reported"]
    return lines
