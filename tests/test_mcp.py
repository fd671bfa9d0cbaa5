"""The Space as a tool for agents: `python app.py` serves MCP at /gradio_api/mcp/, and the
reference `mcp` client, over streamable HTTP, lists its three tools and calls each."""

from __future__ import annotations

import asyncio
import base64
import io
import json

import pytest
from conftest import ROOT
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from PIL import Image

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
TOOLS = {"name_glyph", "read_inscription", "look_up"}


def data_url(path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def with_session(app, work):
    """Run `work(session)` in an initialised MCP session with the app."""

    async def run():
        url = app.url + "gradio_api/mcp/"
        async with streamable_http_client(url) as (read, write, _), ClientSession(read, write) as s:
            await s.initialize()
            return await work(s)

    return asyncio.run(run())


def call(app, tool: str, **arguments):
    async def work(session):
        return await session.call_tool(tool, arguments)

    return with_session(app, work)


def answer(result) -> list:
    assert not result.isError, result.content
    return json.loads(result.content[0].text)


def test_the_three_tools_and_their_documented_inputs(app) -> None:
    async def work(session):
        return (await session.list_tools()).tools

    tools = {t.name: t for t in with_session(app, work)}
    assert set(tools) == TOOLS, set(tools)  # no UI endpoint, no /teach, no /model
    assert {"image", "top_k"} <= set(tools["name_glyph"].inputSchema["properties"])
    assert set(tools["look_up"].inputSchema["properties"]) == {"query"}
    for t in tools.values():
        assert "Returns JSON" in t.description, t.description


def test_name_glyph_from_a_data_url(app) -> None:
    found = answer(call(app, "name_glyph", image=data_url(ROOT / "examples" / "田.png")))
    assert len(found) == 10
    assert [c["char"] for c in found[:3]].count("田") == 1, [c["char"] for c in found]
    assert all(set(c) == {"char", "score", "pinyin", "gloss", "readings"} for c in found)
    assert all(c["readings"][0] == c["char"] for c in found)  # the graph first
    assert found[0]["score"] >= found[-1]["score"] > 0
    three = answer(call(app, "name_glyph", image=data_url(ROOT / "examples" / "田.png"), top_k=3))
    assert [c["char"] for c in three] == [c["char"] for c in found[:3]]


def test_name_glyph_of_a_blank_picture_is_an_error_that_says_why(app, tmp_path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    result = call(app, "name_glyph", image=data_url(blank))
    assert result.isError and "ink" in result.content[0].text.lower(), result.content


def test_read_inscription(app) -> None:
    picture = ROOT / "examples" / "inscriptions" / "大月火田羊门.png"
    glyphs = answer(call(app, "read_inscription", image=data_url(picture)))
    assert len(glyphs) == 6
    w, h = Image.open(picture).size
    for g in glyphs:
        x0, y0, x1, y1 = g["box"]
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        assert len(g["candidates"]) == 5 and g["candidates"][0]["readings"]
    reading = "".join(g["candidates"][0]["char"] for g in glyphs)
    assert sum(a == b for a, b in zip(reading, "大月火田羊门", strict=True)) >= 4, reading


def test_look_up_a_word_finds_the_graph_that_wrote_it(app) -> None:
    (shi, *_) = answer(call(app, "look_up", query="事"))
    assert shi["char"] == "事" and "史" in shi["written_as"]
    assert shi["forms"] and all(f["graph"] for f in shi["forms"])
    assert answer(call(app, "look_up", query="xyzzy")) == []
    rain = answer(call(app, "look_up", query="rain"))[0]
    assert rain["char"] == "雨" and rain["forms"][0]["graph"] == "雨"
    png = base64.b64decode(rain["forms"][0]["png"].split(",", 1)[1])
    assert Image.open(io.BytesIO(png)).format == "PNG"
