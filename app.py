"""Draw a Shang-dynasty oracle bone glyph (甲骨文), or upload a picture of one, and see it named
in modern Chinese: the ten most likely characters, with pinyin, an English gloss and known forms.

    python app.py      # http://127.0.0.1:7860; GRADIO_SERVER_NAME / GRADIO_SERVER_PORT to change

OBS_MODEL names the model (a Hub repo id or a folder); the bundled model is served when the Hub
cannot be reached (or with HF_HUB_OFFLINE=1).
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

from oracle_bones import DEFAULT_DATASET_REPO, DEFAULT_MODEL_REPO, GlyphError, Recognizer
from oracle_bones.annotate import glyph_rows, numbered_boxes, reading_line
from oracle_bones.dictionary import ATTRIBUTION, lookup
from oracle_bones.glyph import EmptyDrawing
from oracle_bones.hub import HubUnavailable, offline
from oracle_bones.model import ModelFileError
from oracle_bones.recognizer import BUNDLED
from oracle_bones.references import References, png_data_uri

logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("app")
log.setLevel(logging.INFO)
HERE = Path(__file__).resolve().parent
TOP_K, SHOWN_REFERENCES, READ_TOP_K = 10, 5, 5


def load_recognizer() -> tuple[Recognizer, str]:
    """The model named by OBS_MODEL (default: the Hub repo), else the bundled one, and a notice."""
    source = os.environ.get("OBS_MODEL") or DEFAULT_MODEL_REPO
    if offline() and not Path(source).is_dir():
        log.info("HF_HUB_OFFLINE is set: serving the bundled model")
        return Recognizer.from_pretrained(BUNDLED), ""
    try:
        return Recognizer.from_pretrained(source), ""
    except (HubUnavailable, ModelFileError) as e:
        log.warning("Cannot load %s (%s); serving the bundled model", source, e)
        notice = f"⚠️ Could not load `{source}` ({e}); serving the bundled model instead."
        return Recognizer.from_pretrained(BUNDLED), notice


torch.set_num_threads(1)  # one core per request: the queue below runs two at a time on 2 vCPUs
if hasattr(ctypes.CDLL(None), "mallopt"):  # glibc: few malloc arenas, so memory is reused
    ctypes.CDLL(None).mallopt(-8, 2)  # M_ARENA_MAX = 2 (one per worker)
recognizer, model_notice = load_recognizer()
# Torch and glibc keep memory per thread: recognitions run on these two threads, not on whichever
# of Gradio's ~40 worker threads took the request, so memory under load levels off sooner.
inference = ThreadPoolExecutor(max_workers=2, thread_name_prefix="recognise")
references = References.load()
lookup("一")  # load the dictionary now rather than on the first request
log.info("Model %s: %d characters", recognizer.source, len(recognizer.labels))
if not len(references):
    log.warning("No reference glyphs (run `python -m oracle_bones references`): none shown")


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
        predictions = inference.submit(recognizer.predict, image, TOP_K).result()
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
    for label in sorted(predictions, key=predictions.get, reverse=True)[:SHOWN_REFERENCES]:
        char = label.split(" ", 1)[0]
        imgs = "".join(
            f'<img src="{png_data_uri(im)}" alt="a known form of {char}">'
            for im in references.get(char)
        )
        cards.append(f"<figure><figcaption>{html.escape(char)}</figcaption>{imgs}</figure>")
    return (
        "<p>Known forms of the top candidates, from the training data:</p>"
        f'<div class="forms">{"".join(cards)}</div>'
    )


def details(predictions) -> tuple[str, str]:
    """What the page shows beside the Label: the banner and the known forms."""
    return banner(predictions), known_forms(predictions)


def read_inscription(file: dict | None):
    """An uploaded inscription: the picture with numbered boxes, the reading line (each glyph's
    first candidate) and a row per glyph with its top 5 and their known forms."""
    path = file and file.get("path")
    if path is None:
        return None, INSCRIPTION_HINT, ""
    try:
        reading = inference.submit(recognizer.read, path, READ_TOP_K).result()
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
    m = recognizer.config.get("metrics") or {}
    test, pen = m.get("test") or {}, m.get("test_pen") or {}
    source = str(recognizer.source)
    repo = source if not Path(source).exists() and source.count("/") == 1 else DEFAULT_MODEL_REPO
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
        "Chinese character it most likely became."
    )
    gr.Markdown(model_notice, visible=bool(model_notice), elem_id="model-notice")
    with gr.Row():
        with gr.Column():
            with gr.Tab("Draw"):
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
            with gr.Tab("Upload"):
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
            with gr.Tab("Inscription"):
                inscription = gr.Image(
                    type="filepath",
                    label="A picture of several glyphs",
                    sources=["upload", "clipboard"],
                    elem_id="inscription-upload",
                )
                gr.Markdown(WHAT_WORKS)
                boxes = gr.Image(
                    label="Glyphs found, in reading order",
                    interactive=False,
                    elem_id="inscription-boxes",
                )
                read_line = gr.Markdown(INSCRIPTION_HINT, elem_id="reading-line")
                rows = gr.HTML(elem_id="glyph-rows")
        with gr.Column():
            top = gr.HTML(elem_id="banner")
            predictions = gr.Label(
                HINT,
                label="Top 10 candidates",
                num_top_classes=TOP_K,
                show_heading=False,
                elem_id="predictions",
            )
            forms = gr.HTML(elem_id="known-forms")
            gr.Markdown(ATTRIBUTION, elem_id="attribution")
    with gr.Accordion("How it works", open=False):
        gr.Markdown(how_it_works())

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
    predictions.change(details, predictions, [top, forms], api_visibility="private")
    inscription.change(
        read_inscription, inscription, [boxes, read_line, rows], api_name="read", preprocess=False
    )
    demo.load(None, js=SELECT_BRUSH)
    sketchpad.clear(None, js=SELECT_BRUSH)

demo.queue(default_concurrency_limit=2, max_size=64)  # 2 vCPUs: two at a time, 64 waiting at most

if __name__ == "__main__":
    demo.launch(css=CSS, max_file_size="20mb")
