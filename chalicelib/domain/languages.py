"""Language tags, the fallback chain that chooses the words a person reads, and writing direction.

A person's language (the contact's, or the browser's for the page and the widget) is asked for first; then
its shorter forms (`pt-BR` → `pt`); then the survey's default language and its shorter forms; then English.
A survey may set its own words per language (`overrides`), over the built-in ones (`resolve`).

Tags are compared case-insensitively and written in their usual case (`pt-BR`, `zh-Hant-TW`, `sr-Latn`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

DEFAULT_LANGUAGE = "en"
# The languages whose built-in strings ship with the service.
BUILT_IN = ("en", "de", "fr", "es")

Direction = Literal["ltr", "rtl"]

# Languages written right to left in their usual script.
RTL_LANGUAGES = frozenset(
    {"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ji", "ks", "ps", "sd", "syr", "ug", "ur", "yi", "prs", "pnb"}
)
# Scripts written right to left; a script subtag decides over the language (`az-Arab` is rtl, `ks-Deva` ltr).
RTL_SCRIPTS = frozenset({"arab", "hebr", "thaa", "syrc", "nkoo", "adlm", "rohg", "mand", "samr", "mend"})

# A tag's shape (normalize also takes `_` for `-` and surrounding spaces), and its longest length.
TAG_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
MAX_TAG_LENGTH = 35
_Q = re.compile(r"^q=([01](?:\.[0-9]{0,3})?)$")


def normalize(tag: object) -> str | None:
    """A language tag in its usual case (`PT_br` → `pt-BR`), or None when it is not one."""
    if not isinstance(tag, str):
        return None
    text = tag.strip().replace("_", "-")
    if not TAG_RE.match(text) or len(text) > MAX_TAG_LENGTH:
        return None
    parts = text.split("-")
    out = [parts[0].lower()]
    for i, part in enumerate(parts[1:], start=1):
        after_singleton = any(len(p) == 1 for p in parts[1:i])
        if after_singleton:
            out.append(part.lower())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())  # script: Latn, Arab, Hant
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())  # region: BR, 419
        else:
            out.append(part.lower())
    return "-".join(out)


def shorter_forms(tag: str) -> list[str]:
    """The tag, then each shorter form of it: `zh-Hant-TW` → `zh-Hant-TW`, `zh-Hant`, `zh`."""
    parts = tag.split("-")
    forms = []
    while parts:
        forms.append("-".join(parts))
        parts.pop()
        while parts and len(parts[-1]) == 1:  # never end on a singleton such as `-x`
            parts.pop()
    return forms


def chain(requested: str | Iterable[str] | None, default: str | None = None) -> tuple[str, ...]:
    """The languages to try, in order: each requested tag and its shorter forms, the survey's default language
    and its shorter forms, then English; without repeats. Tags that are not tags are left out."""
    asked = [requested] if isinstance(requested, str) or requested is None else list(requested)
    out: list[str] = []
    for tag in [*asked, default, DEFAULT_LANGUAGE]:
        norm = normalize(tag)
        if norm is None:
            continue
        for form in shorter_forms(norm):
            if form.lower() not in {t.lower() for t in out}:
                out.append(form)
    return tuple(out)


def direction(tag: str | None) -> Direction:
    """`rtl` for a language written right to left (Arabic, Hebrew, Persian, Urdu, ...), else `ltr`."""
    norm = normalize(tag)
    if norm is None:
        return "ltr"
    parts = norm.split("-")
    for part in parts[1:]:
        if len(part) == 1:
            break
        if len(part) == 4 and part.isalpha():
            return "rtl" if part.lower() in RTL_SCRIPTS else "ltr"
    return "rtl" if parts[0] in RTL_LANGUAGES else "ltr"


def preferred(accept_language: str | None) -> list[str]:
    """The tags of an Accept-Language header (or a joined `navigator.languages`), most wanted first; `*` and
    malformed entries are dropped, as are those with q=0."""
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate((accept_language or "").split(",")):
        tag, *params = (piece.strip() for piece in item.split(";"))
        quality = 1.0
        for param in params:
            found = _Q.match(param.replace(" ", ""))
            if found:
                quality = min(float(found.group(1)), 1.0)
        norm = normalize(tag)
        if norm is not None and quality > 0:
            weighted.append((-quality, index, norm))
    out: list[str] = []
    for _, _, tag in sorted(weighted):
        if tag not in out:
            out.append(tag)
    return out


def _text_map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v.strip() for k, v in value.items() if isinstance(v, str) and v.strip()}


def overrides(custom: Mapping[str, object] | None, default: str | None = None) -> dict[str, dict[str, str]]:
    """A survey's own strings by language. Two shapes are read, and may be mixed:

    - per language: `{"de": {"send": "Absenden"}, "fr": {...}}` (a tag mapped to an object);
    - the single-language shape of before: `{"send": "Absenden"}` (a name mapped to a text), which is in the
      survey's default language (`default`, else English).

    Keys are normalized tags; within a language, the per-language shape wins over the flat one."""
    out: dict[str, dict[str, str]] = {}
    if not custom:
        return out
    home = normalize(default) or DEFAULT_LANGUAGE
    flat = {k: v for k, v in custom.items() if isinstance(v, str)}
    if flat:
        out[home] = _text_map(flat)
    for key, value in custom.items():
        tag = normalize(key)
        if tag is not None and isinstance(value, Mapping):
            out[tag] = {**out.get(tag, {}), **_text_map(value)}
    return {tag: texts for tag, texts in out.items() if texts}


def _find(table: Mapping[str, Mapping[str, str]], tag: str) -> Mapping[str, str]:
    for key, value in table.items():
        if key.lower() == tag.lower():
            return value
    return {}


def resolve_sources(
    built_in: Mapping[str, Mapping[str, str]],
    custom: Mapping[str, Mapping[str, str]],
    languages: Iterable[str],
    keys: Iterable[str],
) -> dict[str, tuple[str, str]]:
    """Each key's text and the language it is in: along `languages`, the survey's own text for a language wins
    over the built-in one of that language, and both win over every later language. A key found nowhere is
    left out."""
    order = list(languages)
    out: dict[str, tuple[str, str]] = {}
    for key in keys:
        for tag in order:
            text = _find(custom, tag).get(key) or _find(built_in, tag).get(key)
            if text:
                out[key] = (text, tag)
                break
    return out


def resolve(
    built_in: Mapping[str, Mapping[str, str]],
    custom: Mapping[str, Mapping[str, str]],
    languages: Iterable[str],
    keys: Iterable[str],
) -> dict[str, str]:
    """Each key's text, as `resolve_sources` finds it."""
    return {key: text for key, (text, _) in resolve_sources(built_in, custom, languages, keys).items()}


def pick(languages: Iterable[str], available: Iterable[str]) -> str:
    """The first of `languages` (a chain) that is available, in the chain's spelling; else English."""
    have = {tag.lower() for tag in available}
    for tag in languages:
        if tag.lower() in have:
            return tag
    return DEFAULT_LANGUAGE
