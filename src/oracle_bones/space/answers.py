"""What the page shows of an answer, as HTML: the coloured banner, the phone's one line, the known
forms beside the candidates, and the look-up's results. Pure functions of the answer, so the app's
event handlers (`handlers`) stay wiring and these can be tested without a browser.

`predictions` is the Label's value: `{"安 ān — peaceful": 0.93, ...}`, or a hint (a string) when
there was nothing to read.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..data.readings import readings
from .dictionary import lookup, word_count
from .forms import Forms, png_data_uri
from .search import HELP, Match

HINT = "Draw a glyph, or upload a picture of one."
SHOWN_CANDIDATES, SHOWN_FORMS = 5, 3  # forms beside the top candidates
SHOWN_WORDS = 3  # of the words a graph also wrote, in a line of the top 10

Predictions = dict[str, float] | str | None


def describe_char(char: str, max_gloss: int = 40) -> str:
    """`安 ān — peaceful; quiet`: the character first, then what it reads and means, then the
    words the graph also wrote: `史 shǐ — history; also writes 事 shì, 使 shǐ, 吏 lì`."""
    entry, also = lookup(char), also_writes(char, SHOWN_WORDS)
    gloss = entry.senses[0] if also and entry.senses else entry.gloss  # short, for a phone
    gloss = gloss if len(gloss) <= max_gloss else gloss[: max_gloss - 1] + "…"
    line = " ".join(p for p in (char, first_reading(char), f"— {gloss}" if gloss else "") if p)
    if not also:
        return line
    return f"{line}; also writes {also}" if gloss else f"{line} — also writes {also}"


def first_reading(char: str) -> str:
    return lookup(char).pinyin.split(", ")[0]


def also_writes(char: str, limit: int | None = None) -> str:
    """`事 shì, 使 shǐ, 吏 lì`: the later words the graph also wrote (`data.readings`), common
    first (in more CC-CEDICT words), or ""."""
    words = sorted(readings().of(char)[1:], key=lambda w: -word_count(w))[:limit]
    return ", ".join(" ".join(p for p in (w, first_reading(w)) if p) for w in words)


def char_of(label: str) -> str:
    """The character a described label (`describe_char`) starts with."""
    return label.split(" ", 1)[0]


def candidate_json(label: str, score: float) -> dict:
    """One candidate as the API and the MCP tools give it: the graph, how sure, its readings."""
    entry = lookup(label)
    return {
        "char": label,
        "score": round(float(score), 6),
        "pinyin": entry.pinyin,
        "gloss": entry.gloss,
        "readings": list(readings().of(label)),
    }


def banner(predictions: Predictions) -> str:
    """The top candidate, coloured by confidence (nothing while the Label shows a hint)."""
    if not isinstance(predictions, dict) or not predictions:
        return ""
    label, p = max(predictions.items(), key=lambda kv: kv[1])
    entry = lookup(char_of(label))
    readings = ", ".join(entry.pinyin.split(", ")[:3])
    colour = "red" if p < 1e-4 else "green" if p > 0.5 else "yellow"
    verdict = {"green": "Probably", "yellow": "Perhaps", "red": "Not recognised; at a guess"}
    return (
        f'<div class="banner {colour}"><span class="char">{html.escape(entry.char)}</span>'
        f"<span>{verdict[colour]} <b>{html.escape(readings)}</b> — "
        f"{html.escape(entry.gloss or 'no gloss found')}<br>"
        f"{_also_line(entry.char)}<small>{p:.1%} sure</small></span></div>"
    )


def _also_line(char: str) -> str:
    also = also_writes(char)
    if not also:
        return ""
    said = f"One graph, several words: it also writes {also}"
    return f'<span class="also">{html.escape(said)}</span><br>'


def known_forms(predictions: Predictions, forms: Forms) -> str:
    """Reference glyphs of the top candidates, so the drawing can be compared with known forms."""
    if not isinstance(predictions, dict) or not predictions:
        return ""
    cards = []
    for label in sorted(predictions, key=predictions.get, reverse=True)[:SHOWN_CANDIDATES]:
        char = char_of(label)
        imgs = "".join(
            f'<img src="{png_data_uri(f.image)}" alt="a known form of {char}" '
            f'title="{html.escape(f.source)} {html.escape(f.ref)}">'
            for f in forms.get(char, SHOWN_FORMS)
        )
        cards.append(f"<figure><figcaption>{html.escape(char)}</figcaption>{imgs}</figure>")
    return (
        "<p>Known forms of the top candidates, from the dataset (click a candidate for more):</p>"
        f'<div class="forms">{"".join(cards)}</div>'
    )


def top_line(predictions: Predictions, n: int = 3) -> str:
    """The top few candidates in one line, shown above the canvas on a phone: drawing with a
    finger, the banner and the list are below the fold. Else the Label's hint."""
    if not isinstance(predictions, dict) or not predictions:
        return f'<div class="top-line">{html.escape(str(predictions or HINT))}</div>'
    best = sorted(predictions.items(), key=lambda kv: kv[1], reverse=True)[:n]
    items = " · ".join(
        f"<span><b>{html.escape(char_of(label))}</b> "
        f"{html.escape(lookup(char_of(label)).pinyin.split(', ')[0])} {p:.0%}</span>"
        for label, p in best
    )
    return f'<div class="top-line">{items}</div>'


def lookup_results(query: str, matches: Sequence[Match]) -> str:
    """The look-up's results: each character, its readings and meaning, its forms."""
    if not matches:
        said = f"Nothing found for “{html.escape(query)}”. " if query else ""
        return f'<p class="lookup-hint">{said}{html.escape(HELP)}</p>'
    sections = []
    for m in matches:
        figures = (
            "".join(
                f'<figure><img src="{png_data_uri(f.image)}" alt="an oracle bone form of {m.char}">'
                f"<figcaption>{html.escape(f.source)}<br>{html.escape(f.ref)}</figcaption></figure>"
                for f in m.forms
            )
            or '<p class="lookup-hint">No stored form (the model knows it from its training).</p>'
        )
        more = f'<span class="more">{m.more} more</span>' if m.more else ""
        notes = []
        if m.graph and m.graph != m.char:
            notes.append(f"Written {m.graph} in oracle bone script: these are {m.graph}'s forms.")
        elif m.written_as:
            notes.append(f"Also written {'、'.join(m.written_as)} in oracle bone script.")
        if m.also_writes:
            notes.append(f"Its graph also writes {also_writes(m.char)}.")
        said = "".join(f'<p class="written">{html.escape(n)}</p>' for n in notes)
        sections.append(
            f'<section class="match"><h3><span class="char">{html.escape(m.char)}</span> '
            f"<b>{html.escape(m.pinyin)}</b> {html.escape(m.gloss)}</h3>{said}"
            f'<div class="lookup-forms">{figures}{more}</div></section>'
        )
    return "".join(sections)
