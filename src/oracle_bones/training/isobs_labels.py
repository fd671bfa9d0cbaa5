"""Recover a character for each IsOBS class: its class numbers follow the Shuowen Jiezi's order.

A recogniser trained on the other sources scores every class (its drawings' averaged
log-probabilities); a monotone alignment of the class order with the Shuowen's headword order
(dynamic programming) then picks, for each class, the headword that the order and the evidence
agree on best, where a headword's variant forms (重文) count as that headword. A class is
labelled only where the evidence is strong enough (the character in the model's top 10); the
rest stay unlabelled. The table is data the project derives, commits and audits by eye
(`python -m oracle_bones label-isobs`, `dataset_card.md`). No evaluation split is used: the
drawings scored are IsOBS's own, the order is the book's.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data.sources.isobs import ISOBS
from ..files import atomic_file
from ..glyphs.glyph import GlyphError, to_tensor
from ..reading.recognizer import Recognizer

# The gain of placing a class at a headword is its mean log-probability minus this: a class
# whose best character is less likely than about 1 in 1,000 stays out of the alignment.
MIN_LOG_PROB = float(np.log(1e-3))
MAX_RANK = 10  # labelled only when the aligned character is among the model's top 10
# One oracle bone graph that several modern characters are written with. Where the order puts a
# class at one of them, the label is the member the other sources (the model) use for the graph.
SAME_GRAPH = (
    "贞鼎",
    "史吏事使",
    "又右有祐佑",
    "女母",
    "月夕",
    "隹唯",
    "其箕",
    "才在",
    "亡无",
    "乡卿飨",
    "立位",
    "受授",
    "令命",
    "帚妇",
    "小少",
    "土社",
    "帝禘",
    "白伯",
)
COLUMNS = (
    "class",
    "char",  # the label; empty when unlabelled
    "headword",  # the Shuowen headword the alignment placed the class at ("" when none)
    "headword_index",  # its row in shuowen/order.tsv
    "rank",  # the model's rank for `char` (or for the headword when unlabelled), 1 = first
    "prob",  # the model's mean probability for it over the class's drawings
    "drawings",
    "model_top1",  # the model's own first choice for the class
    "agrees",  # 1 when the order's character is the model's first choice
    "confidence",  # high: agrees; medium: top 3; low: top 10; "" unlabelled
    "note",  # variant / same graph as ... / no evidence
)


@dataclass(frozen=True)
class Headword:
    index: int  # row of order.tsv
    char: str  # simplified
    forms: tuple[str, ...]  # the headword and its variants, simplified, the headword first


def headwords(data_dir: Path) -> list[Headword]:
    """The Shuowen's headwords in book order, each with its variant forms."""
    path = data_dir / "shuowen" / "order.tsv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    heads: list[Headword] = []
    for row in rows:
        char = row["char_simplified"] or row["char"]
        if row["is_variant"] == "1":
            if heads and char != "〓" and char not in heads[-1].forms:
                h = heads[-1]
                heads[-1] = Headword(h.index, h.char, (*h.forms, char))
        else:
            heads.append(Headword(int(row["index"]), char, (char,)))
    return heads


def class_evidence(rec: Recognizer, data_dir: Path, batch: int = 512):
    """(class numbers, drawing counts, mean log-probabilities (C, K)) over every IsOBS class."""
    sums: dict[int, torch.Tensor] = {}
    counts: dict[int, int] = {}
    pending: list[tuple[int, torch.Tensor]] = []

    def flush() -> None:
        x = torch.stack([t for _, t in pending])
        logp = rec.log_probs(x)
        for (k, _), row in zip(pending, logp, strict=True):
            sums[k] = sums.get(k, 0) + row
            counts[k] = counts.get(k, 0) + 1
        pending.clear()

    for d in tqdm(ISOBS.drawings(data_dir), desc="scoring IsOBS", unit="drawing", disable=None):
        try:
            pending.append((d.klass, to_tensor(d.image)))
        except GlyphError:
            continue
        if len(pending) == batch:
            flush()
    if pending:
        flush()
    classes = sorted(sums)
    logp = torch.stack([sums[k] / counts[k] for k in classes])
    return classes, [counts[k] for k in classes], logp


def align(gain: np.ndarray) -> list[int | None]:
    """Monotone alignment maximising the summed gain: class i -> headword j, j increasing.

    Classes and headwords may be skipped at no cost; `gain` (C, H) is -inf where there is no
    evidence. Row by row, best[j] = the best total using headwords up to j, so each row is a
    running maximum; `came` keeps, per cell, the column the maximum came from.
    """
    n, m = gain.shape
    prev = np.zeros(m + 1)  # prev[j]: best over the first j headwords
    took = np.zeros((n, m + 1), bool)
    came = np.zeros((n, m + 1), np.int32)
    cols = np.arange(m + 1)
    for i in range(n):
        with_match = np.full(m + 1, -np.inf)
        with_match[1:] = prev[:-1] + gain[i]
        cand = np.maximum(prev, with_match)
        took[i] = with_match > prev
        running = np.maximum.accumulate(cand)
        came[i] = np.maximum.accumulate(np.where(cand >= running, cols, 0))
        prev = running
    out: list[int | None] = [None] * n
    j = m
    for i in range(n - 1, -1, -1):
        j = int(came[i, j])
        if took[i, j]:
            out[i] = j - 1
            j -= 1
    return out


def label_table(rec: Recognizer, data_dir: Path) -> list[dict[str, object]]:
    """One row per IsOBS class with its label (or none) and the evidence (see COLUMNS)."""
    classes, counts, logp = class_evidence(rec, data_dir)
    heads = headwords(data_dir)
    index = {c: i for i, c in enumerate(rec.labels)}
    group = {c: g for g in SAME_GRAPH for c in g}
    candidates = [_candidates(h, group) for h in heads]
    best, gain = _headword_gain(logp.numpy(), candidates, index)
    placed = align(gain - MIN_LOG_PROB)
    order = logp.argsort(dim=1, descending=True)
    rank_of = torch.empty_like(order)
    rank_of.scatter_(1, order, torch.arange(1, logp.shape[1] + 1).expand_as(order))
    rows = []
    for i, k in enumerate(classes):
        top1 = rec.labels[int(order[i, 0])]
        row: dict[str, object] = dict.fromkeys(COLUMNS, "")
        row.update({"class": k, "drawings": counts[i], "model_top1": top1})
        j = placed[i]
        if j is None:
            row["note"] = "no evidence" if not np.isfinite(gain[i]).any() else "not placed"
            rows.append(row)
            continue
        head = heads[j]
        char = candidates[j][best[i, j]]
        notes = []
        if char not in head.forms:
            notes.append(f"same graph as {head.char}")
        elif char != head.char:
            notes.append(f"variant of {head.char}")
        rank, prob = int(rank_of[i, index[char]]), float(logp[i, index[char]].exp())
        labelled = rank <= MAX_RANK
        row.update(
            {
                "char": char if labelled else "",
                "headword": head.char,
                "headword_index": head.index,
                "rank": rank,
                "prob": round(prob, 4),
                "agrees": int(char == top1),
                "confidence": _confidence(rank) if labelled else "",
                "note": "; ".join(notes if labelled else [*notes, "weak evidence"]),
            }
        )
        rows.append(row)
    return rows


def _candidates(head: Headword, group: dict[str, str]) -> tuple[str, ...]:
    """The characters a class placed at `head` may be labelled: its forms, and the characters
    written with the same graph as one of them (SAME_GRAPH)."""
    chars = [c for f in head.forms for c in (f, *group.get(f, ""))]
    return tuple(dict.fromkeys(chars))


def _headword_gain(logp: np.ndarray, candidates: Sequence[tuple[str, ...]], index: dict[str, int]):
    """Per class and headword: the best-scoring candidate the model knows, and its log-prob."""
    n, m = logp.shape[0], len(candidates)
    gain = np.full((n, m), -np.inf, np.float32)
    best = np.zeros((n, m), np.int8)  # position in the headword's candidates
    for j, chars in enumerate(candidates):
        for pos, c in enumerate(chars):
            if c in index:
                better = logp[:, index[c]] > gain[:, j]
                gain[better, j] = logp[better, index[c]]
                best[better, j] = pos
    return best, gain


def _confidence(rank: int) -> str:
    return "high" if rank == 1 else "medium" if rank <= 3 else "low"


def write_table(rows: list[dict[str, object]], out: Path) -> None:
    with atomic_file(out) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
