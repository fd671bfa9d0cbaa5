"""Look-up: from a modern character, its pinyin or an English word to the characters' oracle forms.

`Index(Forms.load(), known=recognizer.labels).search("rain")` -> [Match("雨", ...), ...]. Only
characters with a stored form, or that the model knows, are candidates: the point is to see
how a character was written, and nothing else can show that.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from pypinyin.contrib.tone_convert import to_tone3

from ..data.readings import Readings, readings
from .dictionary import lookup, simplified, word_count
from .forms import Form, Forms, png_data_uri

MAX_RESULTS = 20
MIN_WITHIN = 3  # letters a word needs to be found inside a longer sense
HELP = (
    "Type a modern character (雨, or traditional 車), its pinyin (yǔ, yu3 or yu) "
    "or an English word (rain)."
)
_SYLLABLE = re.compile(r"([a-z]+)([0-5]?)")
_PARENS = re.compile(r"\([^)]*\)")
_FILLER = re.compile(r"^(?:to|a|an|the) ")


class Match(NamedTuple):
    char: str
    pinyin: str  # tone marks, all readings, most common first
    gloss: str
    forms: list[Form]  # the stored forms, in their shown order
    more: int  # forms the dataset has beyond those
    graph: str = ""  # whose forms they are: `char`, or the graph that wrote it (事: 史)
    written_as: tuple[str, ...] = ()  # graphs that also wrote `char` (事: 史)
    also_writes: tuple[str, ...] = ()  # words `char`'s own graph also wrote (史: 事, 使, 吏)

    def to_json(self) -> dict:
        """The `/lookup` API's shape: forms as PNG data URIs, with their source, ref and the
        graph they are forms of; the graphs that wrote the character, and what it also wrote."""
        return {
            "char": self.char,
            "pinyin": self.pinyin,
            "gloss": self.gloss,
            "forms": [
                {
                    "source": f.source,
                    "ref": f.ref,
                    "graph": self.graph or self.char,
                    "png": png_data_uri(f.image),
                }
                for f in self.forms
            ],
            "more": self.more,
            "written_as": list(self.written_as),
            "also_writes": list(self.also_writes),
        }


def is_cjk(char: str) -> bool:
    """A Han character (CJK Unified Ideographs, any extension, or a compatibility ideograph)."""
    return unicodedata.name(char, "").startswith(("CJK UNIFIED", "CJK COMPATIBILITY IDEOGRAPH"))


def _plain(text: str) -> str:
    """A sense or a query as compared: lower case, no remark in brackets, no leading `to`/`a`."""
    text = " ".join(_PARENS.sub(" ", text.lower()).split()).strip(" .,;:!?")
    return _FILLER.sub("", text)


def syllable(text: str) -> tuple[str, str] | None:
    """`yǔ` / `yu3` / `yu` -> ("yu", "3") / ("yu", "3") / ("yu", ""); `lü4`, `lu:4`, `lv4` ->
    ("lv", "4"), pypinyin's spelling; tone 0 is the neutral tone, 5. None if it is no syllable."""
    text = text.strip().lower().replace("u:", "v").replace("ü", "v")
    if not text.isascii():
        text = to_tone3(text)
    m = _SYLLABLE.fullmatch(text)
    if not m:
        return None
    return m[1], "5" if m[2] == "0" else m[2]


class Index:
    """The look-up over a set of forms and the model's characters; see `search` for the ranking."""

    def __init__(
        self, forms: Forms, known: Iterable[str] = (), written: Readings | None = None
    ) -> None:
        self.forms = forms
        self.written = readings() if written is None else written
        graphs = set(forms.chars) | {c for c in known if len(c) == 1}
        words = {w for g in graphs for w in self.written.of(g)[1:]}  # 事, by way of 史
        chars = sorted(graphs | words)
        self._entries = {c: lookup(c) for c in chars}  # a few thousand: ~0.2 s
        self._readings: dict[str, list[tuple[str, str, int]]] = {}  # syllable, no tone ->
        for char, entry in self._entries.items():  # (char, tone, which reading: 0 = first)
            for pos, reading in enumerate(entry.readings):
                self._readings.setdefault(reading.rstrip("012345"), []).append(
                    (char, reading[-1:], pos)
                )

    def _commonness(self, char: str) -> tuple[int, int]:
        """Sorts common first: more CC-CEDICT words written with it, then more known forms."""
        return -word_count(char), -self.forms.total(char)

    def __contains__(self, char: str) -> bool:
        return char in self._entries

    def match(self, char: str) -> Match:
        """The character, with its own forms, else those of the graph that wrote it with the
        most known forms (事 has none of its own: 史's, not those of 使, which one font files
        one form of under 使)."""
        entry = self._entries.get(char) or lookup(char)
        written_as = self.written.graphs_of(char)
        known = [g for g in written_as if self.forms.total(g)]
        graph = char if self.forms.total(char) or not known else max(known, key=self.forms.total)
        forms = self.forms.get(graph)
        more = self.forms.total(graph) - len(forms)
        also = self.written.of(char)[1:]
        return Match(char, entry.pinyin, entry.gloss, forms, more, graph, written_as, also)

    def by_character(self, text: str) -> list[str]:
        """Each Han character typed, as itself if it is a candidate, else its simplified forms
        (the dataset's labels are simplified): 車 -> 车, 乾 -> 乾 and 干."""
        out: list[str] = []
        for char in dict.fromkeys(c for c in text if is_cjk(c)):
            out += [c for c in [char, *simplified(char)] if c in self._entries]
        return list(dict.fromkeys(out))

    def by_pinyin(self, text: str) -> list[str]:
        """Characters read so: the typed tone before other tones (any tone if none is typed), then
        characters for which it is the first (most common) reading, then common before rare."""
        parsed = syllable(text)
        if not parsed:
            return []
        base, tone = parsed
        hits: dict[str, tuple] = {}
        for char, t, pos in self._readings.get(base, []):
            key = (bool(tone) and t != tone, pos > 0, *self._commonness(char), char)
            hits[char] = min(hits.get(char, key), key)
        return sorted(hits, key=hits.get)

    def by_english(self, text: str) -> list[str]:
        """Characters with a sense that is the word (`rain`, `to rain`, `(literary) rain`) before
        those with one that holds it as a whole word (`heavy rain`, not `rainbow`; only for
        three letters or more, as `a` or `of` is in every other sense); then by how early that
        sense comes in the character's entry (its main meaning first), then common before rare."""
        query = _plain(text)
        if not query or not query.isascii():
            return []
        word = re.compile(rf"(?<![a-z]){re.escape(query)}(?![a-z])")
        within = len(query) >= MIN_WITHIN
        hits: dict[str, tuple] = {}
        for char, entry in self._entries.items():
            for pos, sense in enumerate(entry.senses):
                plain = _plain(sense)
                if plain == query or (within and word.search(plain)):
                    key = (plain != query, pos, *self._commonness(char), char)
                    hits[char] = min(hits.get(char, key), key)
        return sorted(hits, key=hits.get)

    def search(self, query: str, limit: int = MAX_RESULTS) -> list[Match]:
        """The characters `query` names, best first, at most `limit`.

        A query holding Han characters looks those up, in the order typed. Otherwise a pinyin
        syllable (with tone marks, a tone number or none) lists the characters read so, and an
        English word or phrase the characters that mean it. A bare syllable that is also an
        English word (`man`, `sun`) lists the pinyin readings first, then the meanings.
        "Common" is how many CC-CEDICT words a character is written in (人 1,682, 雨 164,
        龉 2): CC-CEDICT has no frequency list, but a common character is in many words. It is
        a better guide than the number of oracle bone forms, which follows what the Shang wrote
        about and which sources were digitised.
        """
        query = " ".join(str(query or "").split())
        if not query:
            return []
        if any(is_cjk(c) for c in query):
            chars = self.by_character(query)
        else:
            parsed = syllable(query)
            toned = parsed is not None and (bool(parsed[1]) or not query.isascii())
            chars = self.by_pinyin(query)
            if not toned:
                chars += [c for c in self.by_english(query) if c not in chars]
        return [self.match(c) for c in chars[:limit]]
