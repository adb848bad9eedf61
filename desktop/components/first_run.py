"""The first-run offer: which model files each feature needs, their sizes, what to get.

Qt-free. ``FirstRunPlan.from_list`` groups an ``assets.list`` result by the feature that
needs the files: voice conversion (files and live) needs hubert-base and rmvpe; training
a voice needs those and the pretrained bases of one RVC version and sample rate;
transcription with Whisper is optional (English labels work with the built-in engine);
text-to-speech needs no download. ``QtFirstRunDialog`` draws it and starts the downloads
through the Assets page. Whether the offer was made is one settings value
(``offered``/``mark_offered``): it comes by itself once, then from Help ▸ Get models….
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from desktop.components.assets import format_size
from desktop.components.settings import SettingsStore

OFFERED_KEY = "first_run.assets_offered"
CONVERSION = "conversion"
TRAINING = "training"
WHISPER = "whisper"
ESSENTIALS = ("hubert-base", "rmvpe")
DEFAULT_BASE = ("v2", "40k")
DEFAULT_WHISPER = "whisper-base"
WORKS_WITHOUT = (
    "Without any download you can already import recordings, prepare them (slicing and "
    "the health report), label them with the built-in English transcription, and train "
    "and use text-to-speech voices.")
_BASE = re.compile(r"^rvc-(v\d)-f0([GD])(\d+k)$")


def offered(store: SettingsStore) -> bool:
    return bool(store.get(OFFERED_KEY, False))


def mark_offered(store: SettingsStore) -> None:
    store.set(OFFERED_KEY, True)


@dataclass(frozen=True)
class AssetItem:
    name: str
    title: str
    size: int | None
    installed: bool

    @property
    def size_text(self) -> str:
        return format_size(self.size)


@dataclass
class FeatureGroup:
    key: str
    title: str
    what: str
    items: list[AssetItem]
    default: bool  # checked when the dialog opens (only if something is missing)
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    choice: str = ""

    @property
    def installed(self) -> bool:
        return bool(self.items) and all(i.installed for i in self.items)

    @property
    def missing(self) -> list[AssetItem]:
        return [i for i in self.items if not i.installed]

    @property
    def checked_by_default(self) -> bool:
        return self.default and not self.installed

    def size_text(self) -> str:
        """"370 MB" or "590 MB, 220 MB to download" (unknown sizes say "at least")."""
        total = _total(self.items)
        missing = self.missing
        if not missing:
            return f"{total}, installed"
        if len(missing) == len(self.items):
            return total
        return f"{total}, {_total(missing)} to download"


def _total(items: list[AssetItem]) -> str:
    known = [i.size for i in items if isinstance(i.size, int)]
    text = format_size(sum(known))
    return text if len(known) == len(items) else f"at least {text}"


def _item(row: dict[str, Any]) -> AssetItem:
    size = row.get("installed_size") if row.get("installed") else row.get("size")
    return AssetItem(name=str(row["name"]), title=str(row.get("title") or row["name"]),
                     size=size if isinstance(size, int) and not isinstance(size, bool)
                     else None, installed=bool(row.get("installed")))


class FirstRunPlan:
    """The feature groups of one ``assets.list`` result, and the choices made in them."""

    def __init__(self, rows: dict[str, dict[str, Any]]) -> None:
        self.rows = rows
        self.bases = sorted({m[1] + " " + m[3] for n in rows if (m := _BASE.match(n))},
                            key=lambda s: (s.split()[0], int(s.split()[1][:-1])))
        self.whispers = [n for n, r in rows.items()
                         if str(r.get("kind", "")).startswith("transcription")]

    @classmethod
    def from_list(cls, result: dict[str, Any]) -> FirstRunPlan:
        assets = result.get("assets") if isinstance(result, dict) else None
        rows = {str(a["name"]): a for a in assets or [] if isinstance(a, dict) and a.get("name")}
        return cls(rows)

    def _items(self, names: list[str]) -> list[AssetItem]:
        return [_item(self.rows[n]) for n in names if n in self.rows]

    def base_names(self, choice: str) -> list[str]:
        """The pretrained generator and discriminator of "v2 40k" (with pitch)."""
        version, rate = choice.split()
        return [f"rvc-{version}-f0G{rate}", f"rvc-{version}-f0D{rate}"]

    def groups(self, base: str = "", whisper: str = "") -> list[FeatureGroup]:
        """Conversion, training (the bases of ``base``, "v2 40k"), Whisper (``whisper``)."""
        default_base = " ".join(DEFAULT_BASE)
        base = base if base in self.bases else (
            default_base if default_base in self.bases else (self.bases or [""])[0])
        whisper = whisper if whisper in self.whispers else (
            DEFAULT_WHISPER if DEFAULT_WHISPER in self.whispers else
            (self.whispers or [""])[0])
        essentials = self._items(list(ESSENTIALS))
        groups = [FeatureGroup(
            CONVERSION, "Voice conversion (files and live)",
            "Converting recordings and live conversion with a voice model (.pth).",
            essentials, default=True)]
        if base:
            groups.append(FeatureGroup(
                TRAINING, "Training a voice (RVC)",
                "Extracting features and training a voice from your recordings: the two "
                "files above and the pretrained starting weights of one model version and "
                "sample rate (v2, 40k is the usual choice).",
                essentials + self._items(self.base_names(base)), default=True,
                choices=[(b, b.replace(" ", ", ")) for b in self.bases], choice=base))
        if whisper:
            groups.append(FeatureGroup(
                WHISPER, "Transcription with Whisper (optional)",
                "Labels in many languages, more accurate than the built-in English "
                "transcription, which needs no download. Larger models are more accurate "
                "and slower.", self._items([whisper]), default=False,
                choices=[(w, f"{w.removeprefix('whisper-')} ({_item(self.rows[w]).size_text})")
                         for w in self.whispers], choice=whisper))
        return groups

    @staticmethod
    def to_download(groups: list[FeatureGroup], checked: set[str]) -> list[AssetItem]:
        """The missing files of the checked groups, each once, in order."""
        seen: dict[str, AssetItem] = {}
        for group in groups:
            if group.key in checked:
                for item in group.missing:
                    seen.setdefault(item.name, item)
        return list(seen.values())

    def needs_offer(self) -> bool:
        """Whether the default choices leave anything to download."""
        groups = self.groups()
        return bool(self.to_download(groups, {g.key for g in groups if g.default}))


def download_summary(items: list[AssetItem]) -> str:
    if not items:
        return "Nothing selected to download."
    return (f"{len(items)} file(s) to download, {_total(items)}; the downloads go on in "
            "the background (Jobs panel and the Models & assets page).")
