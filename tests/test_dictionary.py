"""Dictionary lookups against the real bundled CC-CEDICT and pypinyin data."""

import pytest

from oracle_bones.space.dictionary import ATTRIBUTION, Entry, lookup, simplified, word_count


def test_an() -> None:
    e = lookup("安")
    assert "ān" in e.pinyin
    assert "peace" in e.gloss or "safe" in e.gloss


def test_hao_has_two_readings_common_first() -> None:
    e = lookup("好")
    assert e.pinyin.split(", ")[:2] == ["hǎo", "hào"]
    assert e.gloss.startswith("good")


def test_ren() -> None:
    e = lookup("人")
    assert e.pinyin == "rén"
    assert "person" in e.gloss or "people" in e.gloss


def test_gloss_is_short_and_clean() -> None:
    for char in "安好人个和了行日月王":
        gloss = lookup(char).gloss
        assert 0 < len(gloss) <= 80
        assert "[" not in gloss and "CL:" not in gloss and "surname" not in gloss


def test_traditional_fallback() -> None:
    assert lookup("個").gloss == lookup("个").gloss != ""


def test_weak_senses_kept_when_only_ones() -> None:
    assert lookup("蝴").gloss == "used in 蝴蝶"


@pytest.mark.parametrize("text", ["𡈼", "", "ab", "😀", " ", "\x00"])
def test_unknown_returns_empty_gloss(text: str) -> None:
    e = lookup(text)
    assert isinstance(e, Entry) and e.char == text and e.gloss == ""


def test_attribution() -> None:
    assert (
        "CC-CEDICT" in ATTRIBUTION and "CC BY-SA 4.0" in ATTRIBUTION and "mdbg.net" in ATTRIBUTION
    )
    assert "pypinyin" in ATTRIBUTION and "MIT" in ATTRIBUTION


def test_traditional_to_simplified() -> None:
    assert simplified("車") == ["车"]
    assert "干" in simplified("乾")
    assert simplified("车") == [] and simplified("a") == []


def test_word_count_says_how_common_a_character_is() -> None:
    assert word_count("人") > word_count("雨") > word_count("龉") > 0
    assert word_count("😀") == 0


def test_senses_and_numbered_readings() -> None:
    e = lookup("雨")
    assert e.senses[0] == "rain" and e.gloss.startswith("rain")
    assert e.readings[:1] == ("yu3",)
    assert lookup("绿").readings[0] == "lv4"  # ü is spelt v, as pypinyin does
    assert lookup("a").readings == () and lookup("a").senses == ()
