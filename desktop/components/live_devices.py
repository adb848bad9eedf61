"""The Live page's audio devices: the ``live.devices`` answer, filtered for the pickers (Qt-free).

Input and output are chosen separately, each as a host API (MME, WASAPI, ASIO, ALSA,
PulseAudio…) and a device of that host API: users mix them (an ASIO microphone, a
WASAPI virtual cable). A choice is remembered by *names* (``Remembered``), never by
index: PortAudio numbers the devices afresh whenever one is plugged in or out, so
``DeviceList.pick`` finds a re-plugged device again by its name (Windows may add or
change a "2- " in it) and says so when a remembered device is gone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

INPUT = "input"
OUTPUT = "output"
DIRECTIONS = (INPUT, OUTPUT)
WORDS = {INPUT: "input device", OUTPUT: "output device"}

_WINDOWS_PORT = re.compile(r"(?<![\w])\d+\s*-\s+")  # "Microphone (2- USB Audio)"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else 0.0


def name_key(name: str) -> str:
    """A device name as compared: case, spaces and Windows' "2- " port numbers ignored."""
    return " ".join(_WINDOWS_PORT.sub("", name).casefold().split())


@dataclass(frozen=True)
class HostApi:
    index: int
    name: str
    default_input: int | None = None
    default_output: int | None = None

    @property
    def is_wasapi(self) -> bool:
        return "wasapi" in self.name.casefold()

    def default(self, direction: str) -> int | None:
        return self.default_input if direction == INPUT else self.default_output


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    host_api: int
    max_input_channels: int = 0
    max_output_channels: int = 0
    default_samplerate: float = 0.0
    default_low_input_latency: float = 0.0
    default_low_output_latency: float = 0.0

    @classmethod
    def from_dict(cls, d: dict[str, Any], api_names: dict[str, int] | None = None,
                  ) -> AudioDevice | None:
        """One ``live.devices`` device; ``host_api`` is its host API's index or name."""
        index, host = _int(d.get("index")), _int(d.get("host_api"))
        if host is None and isinstance(d.get("host_api"), str):
            host = (api_names or {}).get(d["host_api"])
        if index is None or host is None:
            return None
        return cls(index, str(d.get("name") or f"device {index}"), host,
                   _int(d.get("max_input_channels")) or 0,
                   _int(d.get("max_output_channels")) or 0,
                   _float(d.get("default_samplerate")),
                   _float(d.get("default_low_input_latency")),
                   _float(d.get("default_low_output_latency")))

    def channels(self, direction: str) -> int:
        return self.max_input_channels if direction == INPUT else self.max_output_channels

    def label(self) -> str:
        """The picker's text: the name and the device's own rate."""
        rate = f" — {self.default_samplerate / 1000:g} kHz" if self.default_samplerate else ""
        return f"{self.name}{rate}"


@dataclass(frozen=True)
class Remembered:
    """A device choice as kept in the settings: the host API's name and the device's."""

    host_api: str
    device: str

    @classmethod
    def from_stored(cls, value: Any) -> Remembered | None:
        if not isinstance(value, dict):
            return None
        host, device = value.get("host_api"), value.get("device")
        if not isinstance(host, str) or not isinstance(device, str) or not device:
            return None
        return cls(host, device)

    def to_stored(self) -> dict[str, str]:
        return {"host_api": self.host_api, "device": self.device}


@dataclass(frozen=True)
class Pick:
    """What a picker shows: the host API, the device, and a note when the remembered
    device was not found (or no device exists at all)."""

    host_api: HostApi | None
    device: AudioDevice | None
    note: str = ""
    missing: bool = False  # the remembered device (or any device) is not there


class DeviceList:
    def __init__(self, host_apis: list[HostApi], devices: list[AudioDevice],
                 default_input: int | None = None, default_output: int | None = None) -> None:
        self.all_host_apis = host_apis
        self.all_devices = devices
        self.defaults = {INPUT: default_input, OUTPUT: default_output}

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> DeviceList:
        """The ``live.devices`` answer; entries it cannot read are left out."""
        apis = []
        for d in result.get("host_apis") or []:
            index = _int(d.get("index")) if isinstance(d, dict) else None
            if index is not None:
                apis.append(HostApi(index, str(d.get("name") or f"host API {index}"),
                                    _int(d.get("default_input")), _int(d.get("default_output"))))
        names = {h.name: h.index for h in apis}
        devices = [dev for d in result.get("devices") or [] if isinstance(d, dict)
                   for dev in [AudioDevice.from_dict(d, names)] if dev is not None]
        return cls(apis, devices, _int(result.get("default_input")),
                   _int(result.get("default_output")))

    # lookups -------------------------------------------------------------------------------
    def device(self, index: int | None) -> AudioDevice | None:
        return next((d for d in self.all_devices if d.index == index), None)

    def host_api(self, index: int | None) -> HostApi | None:
        return next((h for h in self.all_host_apis if h.index == index), None)

    def devices(self, direction: str, host_api: int | None = None) -> list[AudioDevice]:
        """The devices that can record (``INPUT``) or play (``OUTPUT``), of one host API."""
        return [d for d in self.all_devices if d.channels(direction) > 0
                and (host_api is None or d.host_api == host_api)]

    def host_apis(self, direction: str) -> list[HostApi]:
        """Host APIs with at least one device for ``direction``."""
        used = {d.host_api for d in self.devices(direction)}
        return [h for h in self.all_host_apis if h.index in used]

    def default_device(self, direction: str, host_api: int | None = None) -> AudioDevice | None:
        """The system's default (or the host API's own default, or its first device)."""
        choices = self.devices(direction, host_api)
        api = self.host_api(host_api)
        for index in (self.defaults[direction] if host_api is None else None,
                      api.default(direction) if api is not None else None):
            found = next((d for d in choices if d.index == index), None)
            if found is not None:
                return found
        return choices[0] if choices else None

    def find(self, direction: str, remembered: Remembered) -> AudioDevice | None:
        """The remembered device by name: in its own host API first, then in any other."""
        key = name_key(remembered.device)
        matches = [d for d in self.devices(direction) if name_key(d.name) == key]
        apis = {h.index: h.name for h in self.all_host_apis}
        same_api = [d for d in matches if apis.get(d.host_api) == remembered.host_api]
        exact = [d for d in same_api if d.name == remembered.device]
        best = exact or same_api or matches
        return best[0] if best else None

    def pick(self, direction: str, remembered: Remembered | None) -> Pick:
        """What to show for ``direction``: the remembered device when it is there, else the
        default, with a note saying the remembered one is not connected."""
        word = WORDS[direction]
        if not self.devices(direction):
            return Pick(None, None, f"No {word} was found: connect one and press Refresh "
                                    "devices.", missing=True)
        found = self.find(direction, remembered) if remembered is not None else None
        if found is not None:
            api = self.host_api(found.host_api)
            note = ""
            if remembered is not None and api is not None and api.name != remembered.host_api:
                note = (f"{remembered.host_api} is not available: the {word} “{found.name}” "
                        f"is used through {api.name}.")
            return Pick(api, found, note)
        default = self.default_device(direction)
        assert default is not None  # devices(direction) is not empty
        note = ""
        if remembered is not None:
            note = (f"The {word} you used last, “{remembered.device}” ({remembered.host_api}), "
                    f"is not connected; “{default.name}” is selected instead. Plug it in "
                    "and press Refresh devices to use it again.")
        return Pick(self.host_api(default.host_api), default, note, missing=bool(note))

    def remembered(self, device: AudioDevice) -> Remembered:
        api = self.host_api(device.host_api)
        return Remembered(api.name if api is not None else "", device.name)


def exclusive_possible(*apis: HostApi | None) -> bool:
    """WASAPI exclusive mode applies when the input or the output goes through WASAPI."""
    return any(a is not None and a.is_wasapi for a in apis)
