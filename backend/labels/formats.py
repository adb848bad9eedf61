"""Label lists in and out: GPT-SoVITS ``.list``, VITS filelists and a JSON form.

GPT-SoVITS ``.list`` (what its ASR tools write and ``1-get-text.py`` reads): one clip a line,
``path|speaker|LANG|text``, UTF-8, lines split on ``\\n`` and fields on ``|`` (so neither may
appear inside a field). Its ASR tools write the language upper case (``ZH``, ``JA``, ``EN``,
``KO``, ``YUE``); its reader also takes ``zh``, ``JP``/``jp``, ``En``, ``Ko``, ``yue``/``Yue``.
We write the upper-case codes and read any case (``JP`` as ``ja``).

VITS filelists: ``path|text`` (one speaker) or ``path|speaker_id|text`` (integer ids), read by
splitting each line on ``|``. The ids' speaker names go beside the filelist in
``<file>.speakers.json`` (``{"speakers": {"name": id}}``), read back on import.

JSON form (``format`` ``timbre-labels``, version 1): ``{"rows": [{path, source, start, end,
text, language, speaker}]}``; a row is matched by ``path`` or by ``source`` + ``start``/``end``.

Reading is strict about what could be misread (a field count, an unknown language, a file
that is not UTF-8) and lenient about what is only noise (a UTF-8 byte order mark, Windows
line ends, blank lines, spaces around fields): those are read and reported in ``notes``.
Matching the lines onto a project's rows is ``backend.labels.matching``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LIST, VITS, JSON = "list", "vits", "json"
FORMATS = (LIST, VITS, JSON)
JSON_FORMAT, JSON_VERSION = "timbre-labels", 1
# GPT-SoVITS codes as its ASR writes them, and every spelling its reader maps (any case here)
GSV_WRITE = {"zh": "ZH", "ja": "JA", "en": "EN", "ko": "KO", "yue": "YUE"}
GSV_READ = {"zh": "zh", "ja": "ja", "jp": "ja", "en": "en", "ko": "ko", "yue": "yue"}
SPEAKERS_SUFFIX = ".speakers.json"
_LANGUAGE = re.compile(r"[a-z]{2,3}([-_][a-z0-9]{2,8})*")  # the codes labels.apply takes
_BOMS = {b"\xff\xfe": "UTF-16 (little endian)", b"\xfe\xff": "UTF-16 (big endian)"}
_UTF8_BOM = b"\xef\xbb\xbf"
_FIELDS = {LIST: "path|speaker|language|text", 2: "path|text", 3: "path|speaker_id|text"}


class FormatError(ValueError):
    """A label file that cannot be read at all; the message names it and what to do."""


@dataclass
class Line:
    """One entry read from a label file (``number``: its line, or its row in a JSON file)."""
    number: int
    path: str | None
    text: str
    language: str | None = None
    speaker: str | None = None
    source: str | None = None  # JSON only: the recording's file name
    start: float | None = None
    end: float | None = None


@dataclass
class Parsed:
    format: str
    lines: list[Line] = field(default_factory=list)
    malformed: list[dict[str, Any]] = field(default_factory=list)  # {line, path, reason}
    notes: list[str] = field(default_factory=list)

    def bad(self, number: int, path: str | None, reason: str) -> None:
        self.malformed.append({"line": number, "path": path or "", "reason": reason})


@dataclass
class Entry:
    """One row to write: ``path`` is the prepared clip's absolute path (None: pending)."""
    id: str
    path: str | None
    text: str
    speaker: str
    language: str | None
    source: str | None = None
    start: float | None = None
    end: float | None = None


# reading -------------------------------------------------------------------------------
def read_text(path: Path) -> tuple[str, list[str]]:
    """The file's text with ``\\n`` line ends, and notes about what was tidied."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    for bom, name in _BOMS.items():
        if data.startswith(bom):
            raise FormatError(f"{path} is {name} text; save it as UTF-8 (GPT-SoVITS and VITS "
                              "read UTF-8) and import it again")
    notes = []
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
        notes.append(f"{path.name} starts with a byte order mark (BOM): ignored here, but "
                     "GPT-SoVITS would read it as part of the first path")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise FormatError(f"{path} is not UTF-8 text: line {line} holds the byte "
                          f"0x{data[exc.start]:02X}; save the file as UTF-8 and import it "
                          "again") from exc
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        notes.append(f"{path.name} has Windows line ends (CRLF): read as plain line ends")
    if not text.strip():
        raise FormatError(f"{path} is empty: there is nothing to import")
    return text, notes


def sniff(text: str) -> str:
    """The format a file's text looks like: JSON, a .list (4 fields) or a VITS filelist."""
    if text.lstrip().startswith(("{", "[")):
        return JSON
    first = next(ln for ln in text.split("\n") if ln.strip())
    return LIST if first.count("|") == 3 else VITS


def parse(path: Path, fmt: str | None = None) -> Parsed:
    """Read a label file (``fmt`` None: from its content); FormatError when it is unusable."""
    path = Path(path)
    text, notes = read_text(path)
    fmt = fmt or sniff(text)
    if fmt == LIST:
        parsed = parse_list(text)
    elif fmt == VITS:
        parsed = parse_vits(text, read_speakers(path, notes))
    elif fmt == JSON:
        parsed = parse_json(text, path)
    else:
        raise FormatError(f"unknown label format {fmt!r}; use one of {', '.join(FORMATS)}")
    parsed.notes[:0] = notes
    if not parsed.lines:
        first = parsed.malformed[0] if parsed.malformed else None
        why = f": line {first['line']}: {first['reason']}" if first else ""
        raise FormatError(f"{path} has no usable {_TITLES[fmt]} line{why}")
    return parsed


def _numbered(text: str) -> list[tuple[int, str]]:
    return [(i, ln) for i, ln in enumerate(text.split("\n"), 1) if ln.strip()]


def _count_problem(fields: list[str], expected: int, shape: str) -> str:
    hint = " (a '|' inside the text?)" if len(fields) > expected else ""
    return f"{len(fields)} field(s), expected {expected}: {shape}{hint}"


def gsv_language(code: str) -> str | None:
    """Our language for a GPT-SoVITS code in any case (``JP`` -> ``ja``), or None."""
    return GSV_READ.get(code.strip().lower())


def parse_list(text: str) -> Parsed:
    out = Parsed(LIST)
    for number, raw in _numbered(text):
        fields = raw.split("|")
        path = fields[0].strip()
        if len(fields) != 4:
            out.bad(number, path, _count_problem(fields, 4, _FIELDS[LIST]))
            continue
        speaker, code, body = fields[1].strip(), fields[2].strip(), fields[3].strip()
        language = gsv_language(code)
        if language is None:
            out.bad(number, path, f"unknown language {code!r}: GPT-SoVITS reads "
                    f"{', '.join(GSV_WRITE.values())} (any case, JP for ja)")
        elif not path:
            out.bad(number, path, "no path in the first field")
        else:
            out.lines.append(Line(number, path, body, language, speaker or None))
    return out


def parse_vits(text: str, speakers: dict[int, str] | None) -> Parsed:
    """``path|text`` or ``path|speaker_id|text``: the form more lines have decides."""
    numbered = _numbered(text)
    counts = [ln.count("|") + 1 for _, ln in numbered]
    expected = 3 if counts.count(3) > counts.count(2) else 2
    out = Parsed(VITS)
    for number, raw in numbered:
        fields = raw.split("|")
        path = fields[0].strip()
        if len(fields) != expected or (expected == 3 and not _has_id(fields)):
            why = (f"speaker id {fields[1].strip()!r} is not a whole number"
                   if len(fields) == expected else _count_problem(fields, expected,
                                                                  _FIELDS[expected]))
            out.bad(number, path, why)
        elif not path:
            out.bad(number, path, "no path in the first field")
        else:
            speaker = None
            if expected == 3 and speakers is not None:
                speaker = speakers.get(int(fields[1]))
                if speaker is None:
                    out.bad(number, path, f"speaker id {int(fields[1])} is not in the "
                            "speakers file")
                    continue
            out.lines.append(Line(number, path, fields[-1].strip(), speaker=speaker))
    if expected == 3 and speakers is None:
        out.notes.append("no speakers file beside the filelist: speaker ids were not imported "
                         "(the rows keep their speakers)")
    return out


def _has_id(fields: list[str]) -> bool:
    return len(fields) == 3 and fields[1].strip().isdigit()


def speakers_path(filelist: Path) -> Path:
    return Path(filelist).with_name(Path(filelist).name + SPEAKERS_SUFFIX)


def read_speakers(filelist: Path, notes: list[str]) -> dict[int, str] | None:
    """``{id: name}`` from ``<filelist>.speakers.json``; None when there is none."""
    side = speakers_path(filelist)
    if not side.exists():
        return None
    try:
        data = json.loads(side.read_text("utf-8"))
        names = {int(v): str(k) for k, v in data["speakers"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise FormatError(f"{side} is not a speakers file ({exc}); fix or remove it and "
                          "import again") from exc
    notes.append(f"speaker names read from {side.name}")
    return names


def parse_json(text: str, path: Path) -> Parsed:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FormatError(f"{path} is not valid JSON ({exc}); fix it and import again") \
            from exc
    rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise FormatError(f"{path} has no 'rows' list: it is not a {JSON_FORMAT} file")
    out = Parsed(JSON)
    for number, row in enumerate(rows, 1):
        line, why = _json_line(number, row)
        if why:
            out.bad(number, row.get("path") if isinstance(row, dict) else None, why)
        else:
            out.lines.append(line)
    return out


def _json_line(number: int, row: Any) -> tuple[Line, str | None]:
    line = Line(number, None, "")
    if not isinstance(row, dict):
        return line, "not an object"
    if not isinstance(row.get("text"), str):
        return line, "no 'text' string"
    path, source = row.get("path"), row.get("source")
    try:
        start = None if row.get("start") is None else float(row["start"])
        end = None if row.get("end") is None else float(row["end"])
    except (TypeError, ValueError):
        return line, "'start' and 'end' must be seconds"
    if not isinstance(path, str) and not (isinstance(source, str) and start is not None
                                          and end is not None):
        return line, "neither a 'path' nor 'source' with 'start' and 'end'"
    language = row.get("language")
    if language is not None and (not isinstance(language, str)
                                 or not _LANGUAGE.fullmatch(language.lower())):
        return line, f"'language' must be a code such as en, zh, ja, ko, yue or null, " \
                     f"not {language!r}"
    speaker = row.get("speaker")
    return Line(number, path if isinstance(path, str) else None, row["text"].strip(),
                language.lower() if language else None,
                speaker if isinstance(speaker, str) and speaker else None,
                source if isinstance(source, str) else None, start, end), None


_TITLES = {LIST: "GPT-SoVITS .list", VITS: "VITS filelist", JSON: "labels JSON"}


# writing -------------------------------------------------------------------------------
def entry_problem(entry: Entry, fmt: str) -> str | None:
    """Why ``entry`` cannot be written in ``fmt`` (None: it can)."""
    if not entry.text.strip():
        return "no text"
    if fmt == JSON:
        return None
    if entry.path is None:
        return "pending: no prepared clip for this span yet; run Prepare first"
    for what, value in (("text", entry.text), ("speaker", entry.speaker), ("path", entry.path)):
        if "|" in value or "\n" in value or "\r" in value:
            return f"the {what} holds a '|' or a line break, which the {_TITLES[fmt]} format " \
                   "uses between fields and lines"
    if fmt == LIST and (entry.language or "").lower() not in GSV_WRITE:
        if not entry.language:
            return "no language: set the row's language (GPT-SoVITS needs one)"
        return f"language {entry.language!r} is not one GPT-SoVITS reads " \
               f"({', '.join(GSV_WRITE)})"
    return None


def write_list(entries: list[Entry]) -> str:
    return "".join(f"{e.path}|{e.speaker}|{GSV_WRITE[(e.language or '').lower()]}|"
                   f"{e.text.strip()}\n" for e in entries)


def speaker_ids(entries: list[Entry]) -> dict[str, int]:
    """Speaker name -> id, 0.. in name order (the same names give the same ids)."""
    return {name: i for i, name in enumerate(sorted({e.speaker for e in entries}))}


def write_vits(entries: list[Entry], ids: dict[str, int] | None) -> str:
    """``path|text`` lines, or ``path|id|text`` when ``ids`` is given."""
    if ids is None:
        return "".join(f"{e.path}|{e.text.strip()}\n" for e in entries)
    return "".join(f"{e.path}|{ids[e.speaker]}|{e.text.strip()}\n" for e in entries)


def speakers_json(ids: dict[str, int]) -> str:
    return json.dumps({"format": "timbre-speakers", "speakers": ids}, ensure_ascii=False,
                      indent=2) + "\n"


def write_json(entries: list[Entry], project: str) -> str:
    rows = [{"id": e.id, "path": e.path, "source": e.source, "start": e.start, "end": e.end,
             "text": e.text.strip(), "language": e.language, "speaker": e.speaker}
            for e in entries]
    return json.dumps({"format": JSON_FORMAT, "version": JSON_VERSION, "project": project,
                       "rows": rows}, ensure_ascii=False, indent=2) + "\n"
