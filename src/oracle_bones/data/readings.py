"""One graph, several words: the later words an oracle bone graph wrote (史 for 事, 使 and 吏).

A recogniser that names the graph is right, and a person who drew 事 still needs to see 事. The
table (`readings.csv` beside this module, one row per graph and word) is built by
`python -m oracle_bones readings` from what the sources themselves say, never from an
evaluation set:

- the ZJNU workbook (`kushim-jiang/data/陈年福甲骨文.xlsx`, sheet 1): a row whose `同形` names
  another row's `流水字號` writes its transcription with that row's graph (`注釋` says how:
  同形字 same form, 假借字 loan, 區別字 a later character split off, else same form); a note
  `讀X` reads the graph as X, `X之初文` makes it X's original form, `同X` the same as X;
- the Anyang workbook (`kushim-jiang/data/安阳甲骨文.xlsx`): labels `X（Y）` (graph X, written
  for Y) and `X/Y/Z` (graph X, also read Y and Z);
- the IsOBS label table (`sources/isobs_labels.csv`, this project's own): `same graph as X`.

Characters are simplified as the labels are (`sources.simplify`). The graph's own character
comes first wherever readings are shown (`Readings.of`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass
from functools import cache
from pathlib import Path

from .sources.isobs import LABELS as ISOBS_LABELS
from .sources.simplify import is_han, simplify
from .sources.xlsx import read_sheets

FILE = Path(__file__).resolve().with_name("readings.csv")
ZJNU = Path("kushim-jiang/data/陈年福甲骨文.xlsx")
ANYANG = Path("kushim-jiang/data/安阳甲骨文.xlsx")
COLUMNS = ("graph", "word", "relation", "source", "evidence")
NOTE_RELATIONS = {
    "同形字": "same form",
    "假借字": "loan",
    "區別字": "later split",
    "累增字": "same form",
}
_READ_AS = re.compile(r"^讀(\w)")
_ORIGINAL = re.compile(r"^(\w)之初文$|^(\w)字初文$")
_SAME_AS = re.compile(r"^同(\w)")
_GLOSSED = re.compile(r"^(\w)（(\w)）$")


@dataclass(frozen=True)
class Reading:
    graph: str  # the character the graph is filed under (a model label)
    word: str  # a later word it wrote
    relation: str  # same form, loan, later split, original form, same as, read as, ...
    source: str  # which table says so
    evidence: str  # the row it comes from, to check by eye


def _one(text: str) -> str | None:
    """A single Han character, simplified; None for anything else (compounds, private use)."""
    text = text.strip()
    return simplify(text) if is_han(text) else None


def from_zjnu(path: Path) -> Iterator[Reading]:
    """Sheet 1: 同形 (a row sharing another row's form) and the notes 讀X, X之初文, 同X."""
    rows = read_sheets(path)["Sheet1"][1:]
    by_number = {r[8]: r for r in rows if len(r) > 8 and r[8]}
    for n, r in enumerate(rows, 2):
        r = r + [""] * (10 - len(r))
        note, shared, where = r[7].strip(), r[9].strip(), f"{path.name} row {n}"
        own = _one(r[3])
        if shared and shared in by_number:
            graph, word = _one(by_number[shared][3]), own
            relation = NOTE_RELATIONS.get(note, "same form")
            other = by_number[shared][3]
            evidence = f"{where}: {r[3]} {note or '(no note)'}, 同形 {shared} = {other}"
            yield from _valid(graph, word, relation, "zjnu", evidence)
        for pattern, relation in ((_READ_AS, "read as"), (_ORIGINAL, "original form"),
                                  (_SAME_AS, "same as")):  # fmt: skip
            m = None if note in NOTE_RELATIONS else pattern.match(note)  # 同形字 is no 同X
            if m:
                word = _one(next(g for g in m.groups() if g))
                yield from _valid(own, word, relation, "zjnu", f"{where}: {r[3]} {note}")
                break


def from_anyang(path: Path) -> Iterator[Reading]:
    """Labels `X（Y）` and `X/Y/...` at the font's code points."""
    for n, r in enumerate(next(iter(read_sheets(path).values())), 1):
        label = r[1].strip() if len(r) > 1 else ""
        where = f"{path.name} row {n}: {label}"
        m = _GLOSSED.match(label)
        if m:
            yield from _valid(_one(m[1]), _one(m[2]), "written for", "anyang", where)
        elif "/" in label:
            first, *others = [p for p in label.split("/") if p]
            for other in others:
                yield from _valid(_one(first), _one(other), "also read", "anyang", where)


def from_isobs(path: Path = ISOBS_LABELS) -> Iterator[Reading]:
    """The recovered IsOBS labels' notes `same graph as X` (weak evidence left out)."""
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            m = re.match(r"same graph as (\w)$", row["note"])
            if m and row["char"]:
                where = f"{path.name} class {row['class']}: {row['char']}, {row['note']}"
                yield from _valid(_one(row["char"]), _one(m[1]), "same graph", "isobs", where)


def _valid(graph: str | None, word: str | None, *about: str) -> Iterator[Reading]:
    if graph and word and graph != word:
        yield Reading(graph, word, *about)


def build(data_dir: Path) -> list[Reading]:
    """Every (graph, word) the sources state, once (the first source's evidence kept), sorted
    by graph; the ZJNU table first, then Anyang, then IsOBS."""
    found = [
        *from_zjnu(Path(data_dir) / ZJNU),
        *from_anyang(Path(data_dir) / ANYANG),
        *from_isobs(),
    ]
    first: dict[tuple[str, str], tuple[int, Reading]] = {}
    for n, r in enumerate(found):
        first.setdefault((r.graph, r.word), (n, r))
    return [r for _, r in sorted(first.values(), key=lambda nr: (nr[1].graph, nr[0]))]


def write(rows: Iterable[Reading], out: Path = FILE) -> None:
    with Path(out).open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(astuple(r) for r in rows)


class Readings:
    """The committed table: what a graph also wrote, and which graphs wrote a word."""

    def __init__(self, rows: Iterable[Reading]) -> None:
        self.rows = list(rows)
        self._words: dict[str, list[str]] = {}
        self._graphs: dict[str, list[str]] = {}
        for r in self.rows:
            self._words.setdefault(r.graph, []).append(r.word)
            self._graphs.setdefault(r.word, []).append(r.graph)

    @classmethod
    def load(cls, path: Path = FILE) -> Readings:
        if not Path(path).exists():
            return cls([])
        with Path(path).open(encoding="utf-8", newline="") as f:
            return cls(Reading(**row) for row in csv.DictReader(f))

    def of(self, graph: str) -> tuple[str, ...]:
        """The graph's own character, then the other words it wrote."""
        return (graph, *self._words.get(graph, ()))

    def graphs_of(self, word: str) -> tuple[str, ...]:
        """The graphs that wrote `word`, besides its own (事 -> 史)."""
        return tuple(self._graphs.get(word, ()))


@cache
def readings() -> Readings:
    """The committed table, read once."""
    return Readings.load()
