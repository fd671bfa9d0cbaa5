"""The look-up's search on the shipped forms and the real CC-CEDICT / pypinyin data."""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image

from oracle_bones.space.dictionary import lookup
from oracle_bones.space.forms import Forms
from oracle_bones.space.search import MAX_RESULTS, Index, syllable


@pytest.fixture(scope="module")
def index() -> Index:
    forms = Forms.load()
    assert len(forms), "no shipped forms.npz"
    return Index(forms)


def chars(matches) -> list[str]:
    return [m.char for m in matches]


def test_a_character_finds_itself_with_its_forms(index) -> None:
    (rain,) = index.search("雨")
    assert rain.char == "雨" and "yǔ" in rain.pinyin and rain.gloss.startswith("rain")
    assert rain.forms and all(f.source and f.ref for f in rain.forms)
    assert rain.more == index.forms.total("雨") - len(rain.forms)
    assert chars(index.search(" 雨水 ")) == ["雨", "水"]


def test_a_traditional_character_finds_its_simplified_form(index) -> None:
    assert chars(index.search("車")) == ["车"]
    assert chars(index.search("馬")) == ["马"]


def test_pinyin_exact_tone_first_then_first_readings_then_common(index) -> None:
    found = index.search("yu3")
    assert found[0].char == "雨" and len(found) == MAX_RESULTS
    toned = [m for m in found if "yǔ" in m.pinyin.split(", ")]
    assert found[: len(toned)] == toned  # every yǔ before any other tone
    assert len(toned) < len(found)  # then the other tones of yu
    assert chars(index.search("yǔ")) == chars(found) == chars(index.search("YU3 "))
    bare = chars(index.search("yu"))
    assert "鱼" in bare[:5]  # 鱼 is in hundreds of words: common characters come first


def test_tone_and_commonness_order_on_a_chosen_set() -> None:
    index = Index(Forms(), known=["鱼", "雨", "禺", "好"])
    assert chars(index.search("yu3")) == ["雨", "鱼", "禺"]  # the typed tone wins
    assert chars(index.search("yu2")) == ["鱼", "禺", "雨"]
    assert chars(index.search("hao4")) == ["好"]  # its second reading still finds it


@pytest.mark.parametrize("spelling", ["lü4", "lv4", "lu:4", "lǜ", "LÜ4"])
def test_u_umlaut_however_typed(index, spelling) -> None:
    assert "绿" in chars(index.search(spelling)) or "律" in chars(index.search(spelling))
    assert chars(index.search(spelling)) == chars(index.search("lv4"))


def test_english_a_sense_that_is_the_word_first(index) -> None:
    found = index.search("rain")
    assert found[0].char == "雨"
    assert all(re.search(r"\brain\b", " / ".join(lookup(m.char).senses)) for m in found)
    assert chars(index.search("to rain"))[0] == "雨"
    assert chars(index.search("Fish"))[0] == "鱼"
    assert chars(index.search("horse"))[0] == "马"


def test_english_whole_words_only() -> None:
    index = Index(Forms(), known=["雨", "霖", "虹"])  # 虹 is "rainbow": not a match for "rain"
    assert chars(index.search("rain")) == ["雨", "霖"]  # 霖's sense holds the word, 雨's is it


def test_a_syllable_that_is_also_a_word_gives_both(index) -> None:
    found = chars(index.search("sun"))
    assert "孙" in found and "日" in found and found.index("孙") < found.index("日")


def test_only_characters_with_forms_or_known_to_the_model() -> None:
    index = Index(Forms(), known=["雨"])
    assert chars(index.search("语")) == []  # in the dictionary, but no form and unknown
    assert chars(index.search("yu3")) == ["雨"]
    (rain,) = index.search("雨")
    assert rain.forms == [] and rain.more == 0


@pytest.mark.parametrize("query", ["", "   ", None, "😀", "123", "xyzzy", "!?", "\x00"])
def test_odd_queries_find_nothing_and_do_not_raise(index, query) -> None:
    assert index.search(query) == []


def test_syllable_parsing() -> None:
    assert syllable("yǔ") == syllable("yu3") == ("yu", "3")
    assert syllable("yu") == ("yu", "")
    assert syllable("ma0") == ("ma", "5")
    assert syllable("rain water") is None and syllable("雨") is None


def test_json_has_the_api_shape_and_pngs_decode(index) -> None:
    row = index.search("雨")[0].to_json()
    assert set(row) == {"char", "pinyin", "gloss", "forms", "more", "written_as", "also_writes"}
    assert row["char"] == "雨" and row["forms"]
    for form in row["forms"]:
        assert set(form) == {"source", "ref", "graph", "png"} and form["graph"] == "雨"
        head, data = form["png"].split(",", 1)
        assert head == "data:image/png;base64"
        img = Image.open(io.BytesIO(base64.b64decode(data)))
        assert img.format == "PNG" and img.size == (48, 48)


def test_a_word_without_forms_shows_the_graph_that_wrote_it_with_the_most(index) -> None:
    """事 was written 史 and, in one font's table, 使: the look-up shows 史's many forms."""
    assert not index.forms.total("事")
    writers = index.written.graphs_of("事")
    assert {"史", "使"} <= set(writers) and index.forms.total("使")
    assert index.forms.total("史") > index.forms.total("使")
    (affair,) = index.search("事")
    assert affair.graph == "史" and affair.forms
