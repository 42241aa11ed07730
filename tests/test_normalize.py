from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dupspeech.normalize import PLACEHOLDER, concat, normalize

P = PLACEHOLDER


def test_widths_case_spaces_punctuation():
    assert normalize("ＡＢｃ，\u3000全县 各部门：\n").text == "abc全县各部门"
    assert normalize("a,b，c").text == normalize("a，b,c").text == "abc"


def test_placeholders_are_one_symbol():
    assert normalize("XX同志").text == P + "同志"
    assert normalize("xx省").text == P + "省"
    assert normalize("×××地区").text == P + "地区"
    assert normalize("X区、X市").text == P + "区" + P + "市"
    assert normalize("某某单位").text == P + "单位"
    assert normalize("某些单位").text == "某些单位"  # 某 alone is a word, not a placeholder
    assert normalize("PPT和ECMS").text == "ppt和ecms"  # letters inside words are not placeholders


def test_numbers_fold_to_the_placeholder_unless_asked_not_to():
    assert normalize("2024年1月24日").text == f"{P}年{P}月{P}日"
    assert normalize("２０２４年").text == normalize("XX年").text
    assert normalize("6.37亿人次").text == f"{P}亿人次"
    assert normalize("2024年", fold_numbers=False).text == "2024年"


def test_offsets_map_back():
    text = "  今年，ＸＸ同志在2024年\n讲话。"
    n = normalize(text, base=100)
    for i, ch in enumerate(n.text):
        original = text[n.starts[i] - 100 : n.ends[i] - 100]
        if ch == P:
            assert original in ("ＸＸ", "2024")
        else:
            assert normalize(original).text == ch
    a, b = n.original_range(0, len(n))
    assert text[a - 100 : b - 100] == "今年，ＸＸ同志在2024年\n讲话"


def test_concat_keeps_maps():
    a, b = normalize("第一段。", base=0), normalize("第二段。", base=10)
    c = concat([a, b])
    assert c.text == "第一段第二段"
    assert list(c.starts) == [0, 1, 2, 10, 11, 12]


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80))
def test_every_normalized_char_points_inside_the_text(text):
    n = normalize(text)
    assert len(n.starts) == len(n.ends) == len(n.text)
    for s, e in zip(n.starts, n.ends):
        assert 0 <= s < e <= len(text)
    assert list(n.starts) == sorted(n.starts)


@given(st.text(alphabet="安全生产，。 \n\u3000ＡＢab", max_size=60))
def test_whitespace_and_width_do_not_matter(text):
    wide = text.translate({ord("a"): "ａ", ord("b"): "ｂ", ord("，"): ","})
    assert normalize(text).text == normalize(wide.replace(" ", "\n")).text
