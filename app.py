"""Draw a Shang-dynasty oracle bone glyph (甲骨文), or upload a picture of one, and see it named
in modern Chinese: the ten most likely characters, with pinyin, an English gloss and known forms.
Or look a modern character up (by itself, its pinyin or an English word) to see its oracle forms.

    python app.py      # http://127.0.0.1:7860; GRADIO_SERVER_NAME / GRADIO_SERVER_PORT to change

OBS_MODEL names the model (a Hub repo id or a folder); the bundled model answers until a Hub
model has loaded in the background, and for good when the Hub cannot be reached (or with
HF_HUB_OFFLINE=1). Shared drawings go to OBS_FEEDBACK_DIR (default feedback/ beside this file) and,
with OBS_FEEDBACK_REPO and a token, to that Hub dataset every OBS_FEEDBACK_EVERY_MIN minutes.
"""

import ctypes
import html
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no analytics unless asked for
sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))  # the package, without install

import gradio as gr
import pydantic
import torch
from gradio.components.image_editor import EditorData
from gradio.data_classes import FileData

from oracle_bones import DEFAULT_DATASET_REPO, DEFAULT_MODEL_REPO, GlyphError, feedback
from oracle_bones.annotate import glyph_rows, numbered_boxes, reading_line
from oracle_bones.dictionary import ATTRIBUTION, lookup
from oracle_bones.forms import Forms, png_data_uri
from oracle_bones.glyph import EmptyDrawing
from oracle_bones.search import HELP, Index
from oracle_bones.serving import ModelHolder

logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("app")
log.setLevel(logging.INFO)
HERE = Path(__file__).resolve().parent
TOP_K, SHOWN_CANDIDATES, SHOWN_FORMS = 10, 5, 3  # forms beside the top candidates
READ_TOP_K = 5  # candidates per glyph of an inscription


torch.set_num_threads(1)  # one core per request: the queue below runs two at a time on 2 vCPUs
if hasattr(ctypes.CDLL(None), "mallopt"):  # glibc: few malloc arenas, so memory is reused
    ctypes.CDLL(None).mallopt(-8, 2)  # M_ARENA_MAX = 2 (one per worker)
holder = ModelHolder()  # the bundled model now; OBS_MODEL's once it has loaded
# Torch and glibc keep memory per thread: recognitions run on these two threads, not on whichever
# of Gradio's ~40 worker threads took the request, so memory under load levels off sooner.
inference = ThreadPoolExecutor(max_workers=2, thread_name_prefix="recognise")
oracle_forms = Forms.load()
# reads the dictionary now, not on a request; the labels are the bundled model's (a swapped-in
# model's characters outside them are still found by their forms)
index = Index(oracle_forms, holder.current.recognizer.labels)
store, pusher = feedback.open_from_env(HERE / "feedback")
share_limit = feedback.RateLimit()
log.info(holder.status_line())
if not len(oracle_forms):
    log.warning("No known forms (run `python -m oracle_bones forms`): none shown")


def describe_char(char: str, max_gloss: int = 40) -> str:
    """`安 ān — peaceful; quiet`: the character first, then what it reads and means."""
    entry = lookup(char)
    gloss = entry.gloss if len(entry.gloss) <= max_gloss else entry.gloss[: max_gloss - 1] + "…"
    reading = entry.pinyin.split(", ")[0]
    return " ".join(p for p in (char, reading, f"— {gloss}" if gloss else "") if p)


HINT = "Draw a glyph, or upload a picture of one."


def recognise(image) -> dict[str, float] | str:
    """The top 10 characters for a drawing or a picture, as the Label's {label: confidence};
    a hint (a plain label) when there is no glyph to read."""
    if image is None:
        return HINT
    try:
        predictions = inference.submit(holder.current.recognizer.predict, image, TOP_K).result()
    except EmptyDrawing as e:
        return str(e)
    except GlyphError as e:  # a damaged or unsupported file
        gr.Warning(str(e))
        return str(e)
    return {describe_char(p.label): p.score for p in predictions}


def recognise_file(file: dict | None) -> dict[str, float] | str:
    """An uploaded picture, as uploaded: see `upload.change` below."""
    return recognise(file and file.get("path"))


def banner(predictions) -> str:
    """The top candidate, coloured by confidence (nothing while the Label shows a hint)."""
    if not isinstance(predictions, dict) or not predictions:
        return ""
    label, p = max(predictions.items(), key=lambda kv: kv[1])
    entry = lookup(label.split(" ", 1)[0])
    readings = ", ".join(entry.pinyin.split(", ")[:3])
    colour = "red" if p < 1e-4 else "green" if p > 0.5 else "yellow"
    verdict = {"green": "Probably", "yellow": "Perhaps", "red": "Not recognised; at a guess"}
    return (
        f'<div class="banner {colour}"><span class="char">{html.escape(entry.char)}</span>'
        f"<span>{verdict[colour]} <b>{html.escape(readings)}</b> — "
        f"{html.escape(entry.gloss or 'no gloss found')}<br>"
        f"<small>{p:.1%} sure</small></span></div>"
    )


def known_forms(predictions) -> str:
    """Reference glyphs of the top candidates, so the drawing can be compared with known forms."""
    if not isinstance(predictions, dict) or not predictions:
        return ""
    cards = []
    for label in sorted(predictions, key=predictions.get, reverse=True)[:SHOWN_CANDIDATES]:
        char = label.split(" ", 1)[0]
        imgs = "".join(
            f'<img src="{png_data_uri(f.image)}" alt="a known form of {char}" '
            f'title="{html.escape(f.source)} {html.escape(f.ref)}">'
            for f in oracle_forms.get(char, SHOWN_FORMS)
        )
        cards.append(f"<figure><figcaption>{html.escape(char)}</figcaption>{imgs}</figure>")
    return (
        "<p>Known forms of the top candidates, from the dataset (click a candidate for more):</p>"
        f'<div class="forms">{"".join(cards)}</div>'
    )


def top_line(predictions, n: int = 3) -> str:
    """The top few candidates in one line, shown above the canvas on a phone: drawing with a
    finger, the banner and the list are below the fold. Else the Label's hint."""
    if not isinstance(predictions, dict) or not predictions:
        return f'<div class="top-line">{html.escape(str(predictions or HINT))}</div>'
    best = sorted(predictions.items(), key=lambda kv: kv[1], reverse=True)[:n]
    items = " · ".join(
        f"<span><b>{html.escape(label.split(' ', 1)[0])}</b> "
        f"{html.escape(lookup(label.split(' ', 1)[0]).pinyin.split(', ')[0])} {p:.0%}</span>"
        for label, p in best
    )
    return f'<div class="top-line">{items}</div>'


def details(predictions) -> tuple[str, str, str]:
    """What the page shows beside the Label: the banner, the known forms, the phone's line."""
    return banner(predictions), known_forms(predictions), top_line(predictions)


def lookup_forms(query: str) -> list[dict]:
    """Look up the oracle bone forms (甲骨文) of modern Chinese characters.

    `query`: one modern character (simplified 车 or traditional 車), its pinyin (with tone
    marks `yǔ`, a tone number `yu3` or none `yu`) or an English word (`rain`). Returns the
    matching characters, best first (at most 20): each with `char`, `pinyin`, `gloss` and
    `forms`, the known oracle bone forms as PNG data URIs with their `source` and `ref`
    (inscription or catalogue number), and `more`, how many further forms the dataset holds.
    An empty list when nothing matches."""
    return [m.to_json() for m in index.search(query)]


def lookup_page(query: str) -> str:
    """The look-up's results as HTML: each character, its readings and meaning, its forms."""
    query = (query or "").strip()
    matches = index.search(query)
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
        sections.append(
            f'<section class="match"><h3><span class="char">{html.escape(m.char)}</span> '
            f"<b>{html.escape(m.pinyin)}</b> {html.escape(m.gloss)}</h3>"
            f'<div class="lookup-forms">{figures}{more}</div></section>'
        )
    return "".join(sections)


def open_forms(evt: gr.SelectData) -> tuple:
    """A candidate clicked in the results: its forms in the Look up tab."""
    char = str(evt.value or "").split(" ", 1)[0]
    return gr.Tabs(selected="lookup"), char, lookup_page(char)


def read_inscription(file: dict | None):
    """An uploaded inscription: the picture with numbered boxes, the reading line (each glyph's
    first candidate) and a row per glyph with its top 5 and their known forms."""
    path = file and file.get("path")
    if path is None:
        return None, INSCRIPTION_HINT, ""
    try:
        rec = holder.current.recognizer
        reading = inference.submit(rec.read, path, READ_TOP_K).result()
        picture = numbered_boxes(path, [box for box, _ in reading])
    except EmptyDrawing as e:
        return None, str(e), ""
    except GlyphError as e:  # a damaged or unsupported file
        gr.Warning(str(e))
        return None, str(e), ""
    line = f"**Reading** ({len(reading)} glyphs, in order): {reading_line(reading)}"
    return picture, line, glyph_rows(reading, describe_char, known_forms)


INSCRIPTION_HINT = "Upload a picture of several glyphs: columns are read right to left."
WHAT_WORKS = (
    "Works on line drawings, photos of ink on paper and book pages. Rubbings (light marks on a "
    "dark ground) are not recognised yet: on them the model is near chance."
)


def how_it_works() -> str:
    served = holder.current
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


def model_status() -> dict:
    """/model: which model answers ("bundled", a Hub repo id, a folder name), its revision,
    whether another is still loading, and why the one asked for is not answering, if it is not."""
    return holder.status()


def refresh_status() -> tuple[str, str, gr.Timer]:
    """The page's model line and "How it works", polled until the model has settled."""
    return holder.status_line(), how_it_works(), gr.Timer(active=holder.loading)


def teach(image, character: str | None, session: str | None) -> dict[str, str]:
    """Store a drawing as `character`, with the model's answer: {"saved": id} or {"error": why}."""
    if image is None:
        return {"error": "Nothing to share: draw a glyph or upload a picture first."}
    try:
        with share_limit.slot(session):
            label = feedback.check_label(character)
            served = holder.current
            rec = served.recognizer
            top = inference.submit(rec.predict, image, TOP_K).result()
            known = label in rec.labels
            return {"saved": store.share(image, label, top, served.name, served.revision, known)}
    except (feedback.FeedbackError, GlyphError) as e:
        return {"error": str(e)}


def teach_api(image: FileData, character: str, request: gr.Request) -> dict:
    """/teach: share a picture of a glyph (an image file) as the modern `character` it shows;
    returns {"saved": ID} or {"error": "..."}. Stored under CC0 1.0, with no personal data."""
    return teach(image and image.get("path"), character, request.session_hash)


def share(tab: str, drawing, picture, picked, typed, request: gr.Request) -> str:
    """The "Share this drawing" button: the Draw tab's Sketchpad or the uploaded picture."""
    character = (typed or "").strip() or picked
    result = teach(drawing if tab == "draw" else picture, character, request.session_hash)
    if "error" in result:
        return f"⚠️ Not shared: {result['error']}"
    label = feedback.check_label(character)
    new = "" if label in holder.current.recognizer.labels else f" {label} is new to the model."
    return f"✅ Thank you: your drawing of {label} is saved (`{result['saved'][:8]}`).{new}"


def candidates(predictions, picked: str | None) -> gr.Radio:
    """The top 10 as choices for "the right character". A pick still among them stays: the
    answer to a stroke drawn a moment before may arrive after the user picked."""
    if not isinstance(predictions, dict):
        return gr.Radio(choices=[], value=None)
    ranked = sorted(predictions, key=predictions.get, reverse=True)
    choices = [(label, label.split(" ", 1)[0]) for label in ranked]
    return gr.Radio(choices=choices, value=picked if picked in dict(choices).values() else None)


SHARING_TERMS = (
    "Sharing keeps the drawing's ink, the character you chose and the model's answer (nothing "
    f"about you) and releases them under [{feedback.LICENCE_NAME}]({feedback.LICENCE_URL}) "
    "(public domain) for anyone to train on"
    + (
        f", in the Hub dataset [{pusher.repo_id}](https://huggingface.co/datasets/{pusher.repo_id})."
        if pusher
        else "."
    )
)


class DrawingData(EditorData):
    """The Sketchpad's value as an API caller may send it, with `layers` None or holding None:
    Gradio's own model refuses those before `recognise` runs, with a bare "Error"."""

    @pydantic.field_validator("layers", mode="before")
    @classmethod
    def _drop_none(cls, layers):
        return [layer for layer in layers or [] if layer is not None]


# Gradio 6's Sketchpad ignores strokes until a tool is picked, also after "Clear canvas": click
# its brush once the canvas is ready, until it has stayed selected for a second.
SELECT_BRUSH = """() => {
  const start = Date.now();
  const pick = () => {
    const brush = document.querySelector('#sketchpad button[aria-label="Brush"]')
      || document.querySelector('#sketchpad .toolbar-wrap button');
    const ready = brush && document.querySelector('#sketchpad canvas');
    if (ready && !brush.classList.contains('highlight')) brush.click();
    else if (ready && Date.now() - start > 1000) return;
    if (Date.now() - start < 15000) setTimeout(pick, 200);
  };
  pick();
}"""

# On a narrow screen the Sketchpad's fit leaves 30 px of dead space each side (its zoom tool's
# `border_padding`): fit the canvas to the width instead, once the editor has its image.
FIT_PHONE = """() => {
  if (!matchMedia('(max-width: 640px)').matches) return;
  const start = Date.now();
  const fit = () => {
    const zoom = window.editor && window.editor.tools && window.editor.tools.get('zoom');
    if (zoom && zoom.local_dimensions && zoom.local_dimensions.width > 0) {
      zoom.border_padding = 4;
      zoom.set_zoom('fit');
    } else if (Date.now() - start < 15000) setTimeout(fit, 200);
  };
  fit();
}"""

CSS = """
.banner { display: flex; gap: 1em; align-items: center; padding: .6em 1em; border-radius: 8px;
          color: #1f2937; font-size: 1.1em; }
.banner .char { font-size: 3em; line-height: 1; }
.banner.green { background: #bbf7d0; } .banner.yellow { background: #fef08a; }
.banner.red { background: #fecaca; }
.forms { display: flex; flex-wrap: wrap; gap: .6em; }
.forms figure { margin: 0; padding: .3em; border: 1px solid var(--border-color-primary);
                border-radius: 6px; text-align: center; }
.forms figcaption { font-size: 1.4em; }
.forms img { width: 64px; height: 64px; margin: 0 2px; background: white; border-radius: 4px; }
.match h3 { margin: .8em 0 .3em; font-weight: normal; }
.match .char { font-size: 2em; margin-right: .2em; }
.lookup-forms { display: flex; flex-wrap: wrap; gap: .4em; align-items: flex-start; }
.lookup-forms figure { margin: 0; width: 84px; text-align: center; }
.lookup-forms img { width: 64px; height: 64px; background: white; border-radius: 4px;
                    border: 1px solid var(--border-color-primary); }
.lookup-forms figcaption { font-size: .7em; line-height: 1.2; overflow-wrap: anywhere; }
.lookup-forms .more, .lookup-hint { color: var(--body-text-color-subdued); }
#top-line { display: none; }
/* Gradio's 32 px each side, but 4 px on a phone: Gradio scopes a custom @media rule to what is
   inside `.contain`, so this one is a width-dependent clamp instead. */
.gradio-container .main.app { padding-left: clamp(4px, (100vw - 640px) * 100, 32px) !important;
                              padding-right: clamp(4px, (100vw - 640px) * 100, 32px) !important; }
/* A phone: the canvas as wide as the screen, the top candidates in one line above it. */
@media (max-width: 640px) {
  #intro h1 { font-size: 1.3em; margin: 0; }
  #intro p { display: none; }
  #sketchpad { height: calc(100vw + 40px) !important; }
  #top-line { display: block; height: 2em; overflow: hidden; white-space: nowrap;
              text-overflow: ellipsis; font-size: 1.1em; line-height: 2em; }
  #top-line b { font-size: 1.3em; }
}
#model-status, #teach-terms { font-size: .85em; opacity: .8; }
.glyph-row { display: grid; grid-template-columns: 2em 1fr; gap: 0 .8em; padding: .5em 0;
             border-top: 1px solid var(--border-color-primary); }
.glyph-row > :not(.glyph-number) { grid-column: 2; }
.glyph-number { grid-row: span 3; font-size: 1.6em; font-weight: bold; color: #dc2626; }
.candidates { margin: 0 0 .3em; }
.glyph-row .forms img { width: 40px; height: 40px; }
"""

# Uploaded files are cached on disk by Gradio: on a public Space, drop them after an hour.
with gr.Blocks(title="Oracle bone script recogniser", delete_cache=(3600, 3600)) as demo:
    gr.Markdown(
        "# Oracle bone script recogniser · 甲骨文\n"
        "Draw a Shang-dynasty oracle bone glyph (or upload a picture of one) and see which modern "
        "Chinese character it most likely became; or look up how a modern character was written.",
        elem_id="intro",
    )
    model_line = gr.Markdown(holder.status_line(), elem_id="model-status")
    status_timer = gr.Timer(2.0, active=holder.loading)
    tab = gr.State("draw")  # which tab's picture "Share this drawing" shares
    uploaded = gr.State()  # the uploaded file's path, as uploaded (see upload.change)
    with gr.Row():
        with gr.Column(), gr.Tabs(elem_id="input-tabs") as input_tabs:
            with gr.Tab("Draw", id="draw") as draw_tab:
                phone_line = gr.HTML(top_line(HINT), elem_id="top-line")
                sketchpad = gr.Sketchpad(
                    elem_id="sketchpad",
                    label="Draw a glyph",
                    brush=gr.Brush(colors=["#000000"], color_mode="fixed", default_size=6),
                    eraser=gr.Eraser(default_size=12),
                    layers=False,
                    transforms=(),
                    canvas_size=(400, 400),
                    height=520,
                )
                sketchpad.data_model = DrawingData
                recognise_button = gr.Button("Recognise", variant="primary")
            with gr.Tab("Upload", id="upload") as upload_tab:
                upload = gr.Image(
                    type="filepath",
                    label="A photo or scan of one glyph: a line drawing, ink on paper, a book page",
                    sources=["upload", "clipboard"],
                    elem_id="upload",
                )
                gr.Examples(
                    [[str(p)] for p in sorted((HERE / "examples").glob("*.png"))],
                    inputs=upload,
                    label="Examples: held-out glyphs, re-drawn with a pen",
                )
                gr.Markdown(WHAT_WORKS, elem_id="what-works")
            with gr.Tab("Inscription", id="inscription") as inscription_tab:
                inscription = gr.Image(
                    type="filepath",
                    label="A picture of several glyphs",
                    sources=["upload", "clipboard"],
                    elem_id="inscription-upload",
                )
                gr.Examples(
                    [[str(p)] for p in sorted((HERE / "examples" / "inscriptions").glob("*.png"))],
                    inputs=inscription,
                    label="Example: six held-out glyphs, re-drawn with a pen, in two columns",
                )
                gr.Markdown(WHAT_WORKS)
                boxes = gr.Image(
                    label="Glyphs found, in reading order",
                    interactive=False,
                    elem_id="inscription-boxes",
                )
                read_line = gr.Markdown(INSCRIPTION_HINT, elem_id="reading-line")
                rows = gr.HTML(elem_id="glyph-rows")
            with gr.Tab("Look up", id="lookup") as lookup_tab:
                query = gr.Textbox(
                    label="A modern character, its pinyin or an English word",
                    placeholder="雨 · 車 · yǔ · yu3 · yu · rain",
                    elem_id="lookup-query",
                )
                found = gr.HTML(lookup_page(""), elem_id="lookup-results")
        with gr.Column(elem_id="results") as results:
            top = gr.HTML(elem_id="banner")
            predictions = gr.Label(
                HINT,
                label="Top 10 candidates",
                num_top_classes=TOP_K,
                show_heading=False,
                elem_id="predictions",
            )
            with gr.Group(elem_id="teach"):
                pick = gr.Radio([], label="Wrong? Pick the right character…", elem_id="teach-pick")
                typed = gr.Textbox(
                    label="…or type it", max_length=8, placeholder="雨", elem_id="teach-typed"
                )
                share_button = gr.Button("Share this drawing", elem_id="teach-share")
                shared = gr.Markdown(elem_id="teach-result")
                gr.Markdown(SHARING_TERMS, elem_id="teach-terms")
            forms = gr.HTML(elem_id="known-forms")
            gr.Markdown(ATTRIBUTION, elem_id="attribution")
    with gr.Accordion("How it works", open=False):
        how = gr.Markdown(how_it_works())

    # Drawing: a prediction after every stroke; always_last drops strokes that arrive while one
    # is being recognised, so fast drawing never queues up work.
    sketchpad.change(
        recognise,
        sketchpad,
        predictions,
        trigger_mode="always_last",
        concurrency_limit=1,
        show_progress="hidden",
        api_visibility="private",
    )
    recognise_button.click(recognise, sketchpad, predictions, api_name="predict_drawing")
    # Uploads skip Gradio's own decoding (preprocess=False), which fails on a damaged file with a
    # generic error: oracle_bones decodes the file safely and says what is wrong with it.
    upload.change(recognise_file, upload, predictions, api_name="predict", preprocess=False)
    inscription.change(
        read_inscription, inscription, [boxes, read_line, rows], api_name="read", preprocess=False
    )
    predictions.change(
        details,
        predictions,
        [top, forms, phone_line],
        show_progress="hidden",
        api_visibility="private",
    )
    gr.on(
        [query.input, query.submit],
        lookup_page,
        query,
        found,
        trigger_mode="always_last",
        show_progress="hidden",
        api_visibility="private",
    )
    gr.api(lookup_forms, api_name="lookup")
    # A candidate clicked: its forms in the Look up tab, scrolled into sight on a phone.
    predictions.select(open_forms, None, [input_tabs, query, found], api_visibility="private").then(
        None, js="() => document.querySelector('#input-tabs').scrollIntoView({block: 'nearest'})"
    )
    predictions.change(candidates, [predictions, pick], pick, api_visibility="private")
    draw_tab.select(lambda: "draw", None, tab, api_visibility="private")
    upload_tab.select(lambda: "upload", None, tab, api_visibility="private")
    # An inscription's answers are in its own tab: the single glyph's results would mislead there.
    inscription_tab.select(
        lambda: gr.Column(visible=False), None, results, api_visibility="private"
    )
    gr.on(
        [draw_tab.select, upload_tab.select, lookup_tab.select],
        lambda: gr.Column(visible=True),
        None,
        results,
        api_visibility="private",
    )
    upload.change(
        lambda f: f and f.get("path"), upload, uploaded, preprocess=False, api_visibility="private"
    )
    share_button.click(
        share, [tab, sketchpad, uploaded, pick, typed], shared, api_visibility="private"
    )
    gr.api(teach_api, api_name="teach")
    gr.api(model_status, api_name="model")
    status_outputs = [model_line, how, status_timer]
    # hidden progress: a refresh must not flash a timer ("0.1s") into the one-line status
    status_timer.tick(
        refresh_status, None, status_outputs, show_progress="hidden", api_visibility="private"
    )
    demo.load(
        refresh_status, None, status_outputs, show_progress="hidden", api_visibility="private"
    )
    demo.load(None, js=SELECT_BRUSH)
    demo.load(None, js=FIT_PHONE)
    sketchpad.clear(None, js=SELECT_BRUSH)

demo.queue(default_concurrency_limit=2, max_size=64)  # 2 vCPUs: two at a time, 64 waiting at most

if __name__ == "__main__":
    demo.launch(css=CSS, max_file_size="20mb")
