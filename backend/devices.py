"""Cheap device discovery for ``hello``: no torch import, so it takes milliseconds.

CUDA devices are read through NVML (the driver's management library) with
ctypes; when it is missing there is no usable NVIDIA GPU anyway.
"""

from __future__ import annotations

import ctypes
import os
import platform
from importlib import metadata


def torch_version() -> str | None:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def _total_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


class _NvmlMemory(ctypes.Structure):
    _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong),
                ("used", ctypes.c_ulonglong)]


def _nvml() -> ctypes.CDLL | None:
    """The NVML library, initialised (the caller calls ``nvmlShutdown``); None without it."""
    for name in ("libnvidia-ml.so.1", "libnvidia-ml.so", "nvml.dll"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        return lib if lib.nvmlInit_v2() == 0 else None
    return None


def _cuda_devices() -> list[dict]:
    lib = _nvml()
    if lib is None:
        return []
    devices = []
    try:
        count = ctypes.c_uint()
        if lib.nvmlDeviceGetCount_v2(ctypes.byref(count)) != 0:
            return []
        for i in range(count.value):
            handle = ctypes.c_void_p()
            if lib.nvmlDeviceGetHandleByIndex_v2(i, ctypes.byref(handle)) != 0:
                continue
            buf = ctypes.create_string_buffer(96)
            lib.nvmlDeviceGetName(handle, buf, 96)
            mem = _NvmlMemory()
            lib.nvmlDeviceGetMemoryInfo(handle, ctypes.byref(mem))
            devices.append({"id": f"cuda:{i}", "kind": "cuda",
                            "name": buf.value.decode(errors="replace"),
                            "memory_bytes": int(mem.total)})
    finally:
        lib.nvmlShutdown()
    return devices


def nvidia_driver() -> dict | None:
    """The NVIDIA driver's version and the newest CUDA version it runs
    (``{"driver_version": "570.86", "cuda_version": "12.8"}``); None without a driver."""
    lib = _nvml()
    if lib is None:
        return None
    try:
        buf = ctypes.create_string_buffer(96)
        version = buf.value.decode(errors="replace") \
            if lib.nvmlSystemGetDriverVersion(buf, 96) == 0 else ""
        cuda = ctypes.c_int()
        cuda_text = f"{cuda.value // 1000}.{cuda.value % 1000 // 10}" \
            if lib.nvmlSystemGetCudaDriverVersion_v2(ctypes.byref(cuda)) == 0 else ""
    finally:
        lib.nvmlShutdown()
    return {"driver_version": version, "cuda_version": cuda_text}


def list_devices() -> list[dict]:
    """CPU first, then each CUDA device with its name and memory."""
    cpu = {"id": "cpu", "kind": "cpu", "name": _cpu_name(), "memory_bytes": _total_memory(),
           "cores": os.cpu_count()}
    return [cpu, *_cuda_devices()]
