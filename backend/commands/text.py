"""Text commands: how the text front-ends read a text, and which labels they cannot read.

- ``text.preview`` {text, language} -> {normalized, phonemes, symbols, ids, unsupported:
  [{char, codepoint, name, index}], unknown_symbols, frontend, language}
- ``text.check`` {project, language?} -> {rows: [{id, language, unsupported, unknown_symbols}],
  checked, frontend, frontends, unavailable: [{language, message, rows}]}
- ``text.languages`` {} -> {languages: [{language, available, name?, title?, symbols?,
  message?}]}

A language with no usable front-end (Japanese without pyopenjtalk) answers ``unavailable``
with the reason; a language code nobody knows is ``bad_arguments``.
"""

from __future__ import annotations

from typing import Any

from backend.commands import CommandError, command, project_arg
from backend.labels import store
from backend.protocol import E_BAD_ARGS, E_UNAVAILABLE
from backend.text import frontend as fe
from backend.text.check import check_rows

MAX_PREVIEW_CHARS = 100_000




def _language(value: Any, field: str = "language") -> str:
    if value is None:
        return fe.DEFAULT_LANGUAGE
    code = fe.language_code(value)
    if not code:
        raise CommandError(f"'{field}' must be a language code such as 'en' or 'zh', not "
                           f"{value!r}", code=E_BAD_ARGS)
    return code


def _frontend(code: str) -> fe.Frontend:
    try:
        return fe.get(code)
    except fe.FrontendUnavailable as exc:
        known = code in fe.LANGUAGE_NAMES
        raise CommandError(exc.message, code=E_UNAVAILABLE if known else E_BAD_ARGS,
                           details={"language": code}) from exc


@command("text.preview")
def text_preview(args: dict, server: Any) -> dict:
    text = args.get("text")
    if not isinstance(text, str):
        raise CommandError("'text' must be the text to read (a string)", code=E_BAD_ARGS)
    if len(text) > MAX_PREVIEW_CHARS:
        raise CommandError(f"'text' is {len(text)} characters long; the preview reads at most "
                           f"{MAX_PREVIEW_CHARS}", code=E_BAD_ARGS)
    return _frontend(_language(args.get("language"))).read(text).to_json()


@command("text.check")
def text_check(args: dict, server: Any) -> dict:
    project = project_arg(args)
    forced = _language(args["language"]) if args.get("language") is not None else None
    frontend = _frontend(forced) if forced else None
    try:
        doc = store.load(project.root)
    except store.LabelsError as exc:
        raise CommandError(exc.message, code=E_BAD_ARGS) from exc
    result = check_rows(doc.rows, forced)
    result["frontend"] = frontend.name if frontend else None
    return result


@command("text.languages")
def text_languages(args: dict, server: Any) -> dict:
    return {"languages": fe.languages(), "default": fe.DEFAULT_LANGUAGE}
