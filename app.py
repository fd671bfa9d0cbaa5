"""Draw a Shang-dynasty oracle bone glyph (甲骨文), or upload a picture of one, and see it named
in modern Chinese: the ten most likely characters, with pinyin, an English gloss and known forms.
Or look a modern character up (by itself, its pinyin or an English word) to see its oracle forms.

    python app.py      # http://127.0.0.1:7860; GRADIO_SERVER_NAME / GRADIO_SERVER_PORT to change

OBS_MODEL names the model (a Hub repo id or a folder); the bundled model answers until a Hub
model has loaded in the background, and for good when the Hub cannot be reached (or with
HF_HUB_OFFLINE=1). Shared drawings go to OBS_FEEDBACK_DIR (default feedback/ beside this file) and,
with OBS_FEEDBACK_REPO and a token, to that Hub dataset every OBS_FEEDBACK_EVERY_MIN minutes.

This file is the page and its wiring; what each event does is `oracle_bones.space.handlers`,
the styles are app.css and the scripts app_head.html.
"""

import ctypes
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no analytics unless asked for
sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))  # the package, without install

import gradio as gr
import torch

from oracle_bones.space.answers import HINT, top_line
from oracle_bones.space.dictionary import ATTRIBUTION
from oracle_bones.space.handlers import INSCRIPTION_HINT, TOP_K, WHAT_WORKS, DrawingData, Handlers

logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("oracle_bones").setLevel(logging.INFO)
HERE = Path(__file__).resolve().parent

torch.set_num_threads(1)  # one core per request: the queue below runs two at a time on 2 vCPUs
if hasattr(ctypes.CDLL(None), "mallopt"):  # glibc: few malloc arenas, so memory is reused
    ctypes.CDLL(None).mallopt(-8, 2)  # M_ARENA_MAX = 2 (one per worker)
space = Handlers(HERE / "feedback")

# Uploaded files are cached on disk by Gradio: on a public Space, drop them after an hour.
with gr.Blocks(title="Oracle bone script recogniser", delete_cache=(3600, 3600)) as demo:
    gr.Markdown(
        "# Oracle bone script recogniser · 甲骨文\n"
        "Draw a Shang-dynasty oracle bone glyph (or upload a picture of one) and see which modern "
        "Chinese character it most likely became; or look up how a modern character was written.",
        elem_id="intro",
    )
    model_line = gr.Markdown(space.holder.status_line(), elem_id="model-status")
    status_timer = gr.Timer(2.0, active=space.holder.loading)
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
                    label="One glyph: a drawing, a photo of ink on paper, a book page, a rubbing",
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
                found = gr.HTML(space.lookup_page(""), elem_id="lookup-results")
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
                gr.Markdown(space.sharing_terms(), elem_id="teach-terms")
            forms = gr.HTML(elem_id="known-forms")
            gr.Markdown(ATTRIBUTION, elem_id="attribution")
    with gr.Accordion("How it works", open=False):
        how = gr.Markdown(space.how_it_works())

    # Drawing: a prediction after every stroke; always_last drops strokes that arrive while one
    # is being recognised, so fast drawing never queues up work.
    sketchpad.change(
        space.recognise,
        sketchpad,
        predictions,
        trigger_mode="always_last",
        concurrency_limit=1,
        show_progress="hidden",
        api_visibility="private",
    )
    # The page's own endpoints answer API callers too, but are no MCP tools ("undocumented"):
    # agents get /glyph, /inscription and /look_up below, with plain inputs and JSON outputs.
    ui = {"api_visibility": "undocumented"}
    recognise_button.click(
        space.recognise, sketchpad, predictions, api_name="predict_drawing", **ui
    )
    # Uploads skip Gradio's own decoding (preprocess=False), which fails on a damaged file with a
    # generic error: oracle_bones decodes the file safely and says what is wrong with it.
    upload.change(
        space.recognise_file, upload, predictions, api_name="predict", preprocess=False, **ui
    )
    inscription.change(
        space.show_inscription,
        inscription,
        [boxes, read_line, rows],
        api_name="read",
        preprocess=False,
        **ui,
    )
    predictions.change(
        space.details,
        predictions,
        [top, forms, phone_line],
        show_progress="hidden",
        api_visibility="private",
    )
    gr.on(
        [query.input, query.submit],
        space.lookup_page,
        query,
        found,
        trigger_mode="always_last",
        show_progress="hidden",
        api_visibility="private",
    )
    gr.api(space.name_glyph, api_name="glyph")  # the MCP tools: their docstrings are what
    gr.api(space.read_inscription, api_name="inscription")  # agents read
    gr.api(space.look_up, api_name="look_up")
    gr.api(space.lookup_forms, api_name="lookup", **ui)  # as /look_up, a list, not JSON text
    # A candidate clicked: its forms in the Look up tab, scrolled into sight on a phone.
    predictions.select(
        space.open_forms, None, [input_tabs, query, found], api_visibility="private"
    ).then(
        None, js="() => document.querySelector('#input-tabs').scrollIntoView({block: 'nearest'})"
    )
    predictions.change(space.candidates, [predictions, pick], pick, api_visibility="private")
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
        space.share, [tab, sketchpad, uploaded, pick, typed], shared, api_visibility="private"
    )
    gr.api(space.teach_api, api_name="teach", **ui)
    gr.api(space.model_status, api_name="model", **ui)
    status_outputs = [model_line, how, status_timer]
    # hidden progress: a refresh must not flash a timer ("0.1s") into the one-line status
    status_timer.tick(
        space.refresh_status, None, status_outputs, show_progress="hidden", api_visibility="private"
    )
    demo.load(
        space.refresh_status, None, status_outputs, show_progress="hidden", api_visibility="private"
    )
    demo.load(None, js="() => obsSelectBrush()")  # app_head.html
    demo.load(None, js="() => obsFitPhone()")
    sketchpad.clear(None, js="() => obsSelectBrush()")

demo.queue(default_concurrency_limit=2, max_size=64)  # 2 vCPUs: two at a time, 64 waiting at most

if __name__ == "__main__":
    demo.launch(
        css_paths=HERE / "app.css",
        head_paths=HERE / "app_head.html",
        max_file_size="20mb",
        mcp_server=True,  # at /gradio_api/mcp/ (streamable HTTP): the three tools above
    )
