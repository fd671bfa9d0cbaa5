"""What each event of the Space does: `Handlers` holds what they share (the model answering, the
two recognition threads, the known forms, the look-up, the shared-drawings store) and has one
method per event, so `app.py` is only the page and its wiring.

No `from __future__ import annotations` here: Gradio reads these signatures' annotations
(`gr.Request`, `FileData`) as types to know what to pass and what an API caller sends.
"""

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gradio as gr
import pydantic
from gradio.components.image_editor import EditorData
from gradio.data_classes import FileData

from ..glyphs.glyph import EmptyDrawing, GlyphError
from ..hub import DEFAULT_DATASET_REPO, DEFAULT_MODEL_REPO
from . import feedback
from .annotate import glyph_rows, numbered_boxes, reading_line
from .answers import (
    HINT,
    also_writes,
    banner,
    candidate_json,
    char_of,
    describe_char,
    known_forms,
    lookup_results,
    top_line,
)
from .feedback_push import open_from_env
from .forms import Forms
from .search import Index
from .serving import ModelHolder

log = logging.getLogger(__name__)

TOP_K = 10
READ_TOP_K = 5  # candidates per glyph of an inscription
INSCRIPTION_HINT = "Upload a picture of several glyphs: columns are read right to left."
WHAT_WORKS = (
    "Works on line drawings, photos of ink on paper and book pages. Rubbings (light strokes on a "
    "dark bone) are turned over and read, but less well: a rubbed glyph is named right about one "
    "time in four, and is among the top 10 about half the time."
)


class DrawingData(EditorData):
    """The Sketchpad's value as an API caller may send it, with `layers` None or holding None:
    Gradio's own model refuses those before `recognise` runs, with a bare "Error"."""

    @pydantic.field_validator("layers", mode="before")
    @classmethod
    def _drop_none(cls, layers):
        return [layer for layer in layers or [] if layer is not None]


def _path(image: FileData | dict | str | None) -> str | None:
    """The file Gradio saved for an API or MCP input (a URL or data URL is fetched first)."""
    return image.get("path") if isinstance(image, dict) else image


def _json(value: list) -> str:
    """Tools' answers as JSON text (an MCP client gets the text as is)."""
    return json.dumps(value, ensure_ascii=False)


def _top(k: int | float | None, default: int) -> int:
    return max(1, min(TOP_K, int(k or default)))


class Handlers:
    """The Space's state and its event handlers (their docstrings are the API's)."""

    def __init__(self, feedback_dir: Path) -> None:
        self.holder = ModelHolder()  # the bundled model now; OBS_MODEL's once it has loaded
        # Torch and glibc keep memory per thread: recognitions run on these two threads, not on
        # whichever of Gradio's ~40 worker threads took the request, so memory levels off sooner.
        self.inference = ThreadPoolExecutor(max_workers=2, thread_name_prefix="recognise")
        self.forms = Forms.load()
        # reads the dictionary now, not on a request; the labels are the bundled model's (a
        # swapped-in model's characters outside them are still found by their forms)
        self.index = Index(self.forms, self.holder.current.recognizer.labels)
        self.store, self.pusher = open_from_env(feedback_dir)
        self.share_limit = feedback.RateLimit()
        log.info(self.holder.status_line())
        if not len(self.forms):
            log.warning("No known forms (run `python -m oracle_bones forms`): none shown")

    # Drawing and uploading: one glyph.

    def recognise(self, image) -> dict[str, float] | str:
        """The top 10 characters for a drawing or a picture, as the Label's {label: confidence};
        a hint (a plain label) when there is no glyph to read."""
        if image is None:
            return HINT
        rec = self.holder.current.recognizer
        try:
            predictions = self.inference.submit(rec.predict, image, TOP_K).result()
        except EmptyDrawing as e:
            return str(e)
        except GlyphError as e:  # a damaged or unsupported file
            gr.Warning(str(e))
            return str(e)
        return {describe_char(p.label): p.score for p in predictions}

    def name_glyph(self, image: FileData, top_k: int = 10) -> str:
        """Name an oracle bone script glyph (甲骨文, Shang dynasty) in a picture: a drawing, a
        photo or scan of ink on paper, a book page.

        `image`: the picture (an http(s) URL, a data URL or an uploaded file) of ONE glyph.
        `top_k`: how many candidates, 1 to 10. Returns JSON: the candidates, best first, each with
        `char` (the modern character the graph is filed under), `score` (probability, 0 to 1),
        `pinyin` (all readings, most common first), `gloss` (English meanings) and `readings`
        (the graph's own character first, then the later words the same graph also wrote:
        史 also wrote 事, 使 and 吏). Raises an error when the picture holds no glyph or is no
        image."""
        predictions = self._answer(lambda rec: rec.predict(_path(image), _top(top_k, TOP_K)))
        return _json([candidate_json(p.label, p.score) for p in predictions])

    def read_inscription(self, image: FileData, top_k: int = 5) -> str:
        """Read an oracle bone inscription: a picture of several glyphs (a line drawing, a
        photo of one), its glyphs found and put in reading order (columns right to left, each
        top to bottom; rows left to right when the layout is clearly horizontal).

        `image`: the picture (an http(s) URL, a data URL or an uploaded file). `top_k`:
        candidates per glyph, 1 to 10. Returns JSON: one entry per glyph, in reading order: `box`
        ([left, top, right, bottom] in the picture's pixels) and `candidates`, best first, each
        as `name_glyph` gives them (char, score, pinyin, gloss, readings)."""
        reading = self._answer(lambda rec: rec.read(_path(image), _top(top_k, READ_TOP_K)))
        return _json(
            [
                {"box": list(box), "candidates": [candidate_json(p.label, p.score) for p in found]}
                for box, found in reading
            ]
        )

    def _answer(self, ask):
        """`ask(recognizer)` on a recognition thread; a picture it cannot read is an error
        whose message says why (an agent or API caller sees it)."""
        rec = self.holder.current.recognizer
        try:
            return self.inference.submit(ask, rec).result()
        except GlyphError as e:  # no glyph, a damaged or unsupported file
            raise gr.Error(str(e)) from e

    def recognise_file(self, file: dict | None) -> dict[str, float] | str:
        """An uploaded picture, as uploaded (Gradio's own decoding is skipped: see app.py)."""
        return self.recognise(file and file.get("path"))

    def details(self, predictions) -> tuple[str, str, str]:
        """What the page shows beside the Label: the banner, the known forms, the phone's line."""
        return banner(predictions), known_forms(predictions, self.forms), top_line(predictions)

    def candidates(self, predictions, picked: str | None) -> gr.Radio:
        """The top 10 as choices for "the right character". A pick still among them stays: the
        answer to a stroke drawn a moment before may arrive after the user picked."""
        if not isinstance(predictions, dict):
            return gr.Radio(choices=[], value=None)
        ranked = sorted(predictions, key=predictions.get, reverse=True)
        choices = [(label, char_of(label)) for label in ranked]
        return gr.Radio(choices=choices, value=picked if picked in dict(choices).values() else None)

    # Looking up: a modern character's forms.

    def lookup_forms(self, query: str) -> list[dict]:
        """Look up the oracle bone forms (甲骨文) of modern Chinese characters.

        `query`: one modern character (simplified 车 or traditional 車), its pinyin (with tone
        marks `yǔ`, a tone number `yu3` or none `yu`) or an English word (`rain`). Returns the
        matching characters, best first (at most 20): each with `char`, `pinyin`, `gloss` and
        `forms`, the known oracle bone forms as PNG data URIs with their `source` and `ref`
        (inscription or catalogue number), and `more`, how many further forms the dataset holds.
        An empty list when nothing matches."""
        return [m.to_json() for m in self.index.search(query)]

    def look_up(self, query: str) -> str:
        """Look up how a modern Chinese character was written in oracle bone script (甲骨文).

        `query`: one modern character (simplified 车 or traditional 車), its pinyin (`yǔ`,
        `yu3` or `yu`) or an English word (`rain`). Returns JSON: the matching characters, best
        first (at most 20), each with `char`, `pinyin`, `gloss`, `forms` (known oracle bone
        forms: `png` a PNG data URI, `source` and `ref` where it was copied from, and `graph`,
        the character whose forms they are: 事 has none of its own and is shown 史's, the graph
        that wrote it), `more` (how many further forms exist), `written_as` (graphs that also
        wrote the character) and `also_writes` (later words its graph also wrote). An empty list
        when nothing matches."""
        return _json(self.lookup_forms(query))

    def lookup_page(self, query: str) -> str:
        """The look-up's results as HTML."""
        query = (query or "").strip()
        return lookup_results(query, self.index.search(query))

    def open_forms(self, evt: gr.SelectData) -> tuple:
        """A candidate clicked in the results: its forms in the Look up tab."""
        char = char_of(str(evt.value or ""))
        return gr.Tabs(selected="lookup"), char, self.lookup_page(char)

    # An inscription: several glyphs in reading order.

    def show_inscription(self, file: dict | None):
        """An uploaded inscription: the picture with numbered boxes, the reading line (each
        glyph's first candidate) and a row per glyph with its top 5 and their known forms."""
        path = file and file.get("path")
        if path is None:
            return None, INSCRIPTION_HINT, ""
        try:
            rec = self.holder.current.recognizer
            reading = self.inference.submit(rec.read, path, READ_TOP_K).result()
            picture = numbered_boxes(path, [box for box, _ in reading])
        except EmptyDrawing as e:
            return None, str(e), ""
        except GlyphError as e:  # a damaged or unsupported file
            gr.Warning(str(e))
            return None, str(e), ""
        line = f"**Reading** ({len(reading)} glyphs, in order): {reading_line(reading)}"
        also = {p[0].label: also_writes(p[0].label) for _, p in reading if p}
        if notes := [f"{char} also writes {words}" for char, words in also.items() if words]:
            line += " · " + "; ".join(notes)
        rows = glyph_rows(reading, describe_char, lambda p: known_forms(p, self.forms))
        return picture, line, rows

    # Which model answers.

    def how_it_works(self) -> str:
        served = self.holder.current
        recognizer = served.recognizer
        m = recognizer.config.get("metrics") or {}
        test, pen = m.get("test") or {}, m.get("test_pen") or {}
        repo = served.name if served.name.count("/") == 1 else DEFAULT_MODEL_REPO
        accuracy = (
            f"On {m.get('n', '?')} held-out seed glyphs the model names the right character first "
            f"{test.get('top1', 0):.0%} of the time, and among its top 5 / top 10 "
            f"{test.get('top5', 0):.0%} / {test.get('top10', 0):.0%} "
            f"(re-drawn with a round pen, like a drawing here: {pen.get('top1', 0):.0%} / "
            f"{pen.get('top5', 0):.0%} / {pen.get('top10', 0):.0%})."
            if test
            else "This model has no measured accuracy."
        )
        return (
            "Your drawing is cropped to its ink, centred and shrunk to 64 × 64 pixels, then a "
            f"`{recognizer.config.get('architecture', 'CNN')}` network scores all "
            f"{len(recognizer.labels):,} characters it knows. {accuracy}\n\n"
            f"Model: [{repo}](https://huggingface.co/{repo}) · "
            f"Dataset: [{DEFAULT_DATASET_REPO}](https://huggingface.co/datasets/{DEFAULT_DATASET_REPO})"
        )

    def model_status(self) -> dict:
        """/model: which model answers ("bundled", a Hub repo id, a folder name), its revision,
        whether another is still loading, and why the one asked for is not answering, if not."""
        return self.holder.status()

    def refresh_status(self) -> tuple[str, str, gr.Timer]:
        """The page's model line and "How it works", polled until the model has settled."""
        return self.holder.status_line(), self.how_it_works(), gr.Timer(active=self.holder.loading)

    # Teaching: a drawing shared with its right character.

    def sharing_terms(self) -> str:
        where = (
            f", in the Hub dataset [{self.pusher.repo_id}]"
            f"(https://huggingface.co/datasets/{self.pusher.repo_id})."
            if self.pusher
            else "."
        )
        return (
            "Sharing keeps the drawing's ink, the character you chose and the model's answer "
            f"(nothing about you) and releases them under [{feedback.LICENCE_NAME}]"
            f"({feedback.LICENCE_URL}) (public domain) for anyone to train on{where}"
        )

    def teach(self, image, character: str | None, session: str | None) -> dict[str, str]:
        """Store a drawing as `character`, with the model's answer: {"saved": id} or
        {"error": why}."""
        if image is None:
            return {"error": "Nothing to share: draw a glyph or upload a picture first."}
        try:
            with self.share_limit.slot(session):
                label = feedback.check_label(character)
                served = self.holder.current
                rec = served.recognizer
                top = self.inference.submit(rec.predict, image, TOP_K).result()
                known = label in rec.labels
                saved = self.store.share(image, label, top, served.name, served.revision, known)
                return {"saved": saved}
        except (feedback.FeedbackError, GlyphError) as e:
            return {"error": str(e)}

    def teach_api(self, image: FileData, character: str, request: gr.Request) -> dict:
        """/teach: share a picture of a glyph (an image file) as the modern `character` it shows;
        returns {"saved": ID} or {"error": "..."}. Stored under CC0 1.0, with no personal data."""
        return self.teach(image and image.get("path"), character, request.session_hash)

    def share(self, tab: str, drawing, picture, picked, typed, request: gr.Request) -> str:
        """The "Share this drawing" button: the Draw tab's Sketchpad or the uploaded picture."""
        character = (typed or "").strip() or picked
        result = self.teach(drawing if tab == "draw" else picture, character, request.session_hash)
        if "error" in result:
            return f"⚠️ Not shared: {result['error']}"
        label = feedback.check_label(character)
        known = label in self.holder.current.recognizer.labels
        new = "" if known else f" {label} is new to the model."
        return f"✅ Thank you: your drawing of {label} is saved (`{result['saved'][:8]}`).{new}"
