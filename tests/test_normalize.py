from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dupspeech import _jit
from dupspeech import normalize as normalize_module
from dupspeech.normalize import (
    PLACEHOLDER,
    OffsetMaps,
    concat,
    normalize,
    normalize_joined,
    normalize_many,
    normalize_spans,
)

needs_numba = pytest.mark.skipif(not _jit.available(), reason="numba is not installed: only the numpy path runs")

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


# --- normalize_spans: several spans of one text in one call, against the per-span oracle --------------------

# pieces that exercise every rule, and the boundaries between them: placeholders of every form, letters that
# stop them, numbers (full-width, with dots), punctuation, spaces, line breaks, characters beyond the BMP
PIECES = ["x", "xx", "XX", "xxxxxx", "×××××××", "*****", "ｘ", "Ｘ", "×", "××", "*", "＊", "某", "某某", "a", "B", "ppt", "0", "7", "２０２４", "2024",
          "6.37", ".", "．", "1.", "，", "。", "：", " ", "\u3000", "\xa0", "\n", "\r\n", "年", "同志", "会议", "ﬁ",
          "①", "Ⅻ", "㈠", "\ue000", "\U00020000", "😀", "\U000e0041", "\U000f0000", "\ud800"]
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join) | st.text(max_size=40)  # lone surrogates too


def oracle(text, spans, fold_numbers):
    return concat([normalize(text[a:b], fold_numbers=fold_numbers, base=a) for a, b in spans])


@st.composite
def text_and_spans(draw):
    text = draw(texts)
    n = len(text)
    shape = draw(st.sampled_from(["paragraphs", "whole", "any"]))
    if shape == "paragraphs":  # adjacent spans in order, with gaps between some: the paragraphs of a speech
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=5)) + [0, n])
        spans = [(a, b) for a, b in pairwise(cuts) if draw(st.integers(0, 3))]
    elif shape == "whole":  # one span over everything, as normalize() sees it, and empty spans around it
        spans = [(0, 0)] * draw(st.integers(0, 1)) + [(0, n)] + [(n, n)] * draw(st.integers(0, 1))
    else:  # any spans: empty, overlapping, out of order
        bound = st.integers(0, n)
        spans = [tuple(sorted(p)) for p in draw(st.lists(st.tuples(bound, bound), max_size=6))]
    return text, spans


def same(a, b):
    return a.text == b.text and np.array_equal(a.starts, b.starts) and np.array_equal(a.ends, b.ends)


@pytest.mark.parametrize("jit", ["0", pytest.param("1", marks=needs_numba)])
@settings(max_examples=400, deadline=None)
@given(text_and_spans(), st.booleans())
def test_normalize_spans_equals_normalizing_each_span(jit, case, fold_numbers):
    text, spans = case
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", jit)
        got = normalize_spans(text, spans, fold_numbers=fold_numbers)
    assert same(got, oracle(text, spans, fold_numbers))
    assert got.starts.dtype == got.ends.dtype == np.int32


@pytest.mark.parametrize("jit", ["0", pytest.param("1", marks=needs_numba)])
@settings(max_examples=200, deadline=None)
@given(st.lists(text_and_spans(), min_size=1, max_size=6), st.lists(st.integers(0, 5), max_size=8),
       st.sampled_from([1, 7, 1 << 21]), st.booleans())
def test_normalize_many_equals_normalizing_each_item(jit, cases, repeats, batch_chars, fold_numbers):
    # items that share a text (the speeches of one page) next to ones that do not, in batches of any size
    items = list(cases) + [cases[k % len(cases)] for k in repeats]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", jit)
        mp.setattr(normalize_module, "BATCH_CHARS", batch_chars)
        got = normalize_many(items, fold_numbers=fold_numbers)
    assert len(got) == len(items)
    for n, (text, spans) in zip(got, items):
        assert same(n, oracle(text, spans, fold_numbers))
        assert n.starts.dtype == n.ends.dtype == np.int32


@settings(max_examples=200, deadline=None)
@given(st.lists(text_and_spans(), max_size=6), st.sampled_from([1, 5, 1 << 20]), st.booleans())
def test_offset_maps_give_what_the_texts_maps_give(cases, chunk, fold_numbers):
    # every range of every text, the texts read in chunks of any size (a text longer than a chunk too)
    texts = normalize_many(cases, fold_numbers=fold_numbers) if cases else []
    maps = OffsetMaps.of(texts, chunk=chunk)
    assert len(maps) == len(texts)
    ranges = np.array([(k, a, b) for k, t in enumerate(texts) for a in range(len(t)) for b in range(a + 1, len(t) + 1)],
                      dtype=np.int64).reshape(-1, 3)
    which, i, j = ranges.T
    start, end = maps.original(which, i, j)
    want = [texts[k].original_range(a, b) for k, a, b in zip(which.tolist(), i.tolist(), j.tolist())]
    assert list(zip(start.tolist(), end.tolist())) == want
    assert start.dtype == end.dtype == np.int64


def maps_equal(a: OffsetMaps, b: OffsetMaps) -> bool:
    return all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(
        (a.bounds, a.at, a.base, a.wide_at, a.wide_end), (b.bounds, b.at, b.base, b.wide_at, b.wide_end)))


@settings(max_examples=200, deadline=None)
@given(st.lists(text_and_spans(), max_size=6), st.sampled_from([1, 5, 1 << 20]), st.booleans())
def test_offset_maps_do_not_depend_on_the_chunks_and_expand_to_the_texts_maps(cases, chunk, fold_numbers):
    texts = normalize_many(cases, fold_numbers=fold_numbers) if cases else []
    maps = OffsetMaps.of(texts, chunk=chunk)
    assert maps_equal(maps, OffsetMaps.of(texts, chunk=1 << 30))  # a run goes on across chunks: the same breaks
    starts, ends = maps.expand()
    assert np.array_equal(starts, np.concatenate([np.zeros(0, np.int64), *(t.starts for t in texts)]))
    assert np.array_equal(ends, np.concatenate([np.zeros(0, np.int64), *(t.ends for t in texts)]))


@pytest.mark.parametrize("jit", ["0", pytest.param("1", marks=needs_numba)])
@settings(max_examples=200, deadline=None)
@given(st.lists(text_and_spans(), max_size=6), st.lists(st.integers(0, 5), max_size=8),
       st.sampled_from([1, 7, 1 << 21]), st.booleans())
def test_normalize_joined_is_normalize_many_end_to_end(jit, cases, repeats, batch_chars, fold_numbers):
    items = list(cases) + [cases[k % len(cases)] for k in repeats if cases]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", jit)
        mp.setattr(normalize_module, "BATCH_CHARS", batch_chars)
        text, maps = normalize_joined(items, fold_numbers=fold_numbers)
    texts = [oracle(t, spans, fold_numbers) for t, spans in items]
    assert text == "".join(t.text for t in texts)
    assert maps_equal(maps, OffsetMaps.of(texts))


def test_normalize_joined_names_the_item_with_a_bad_span():
    text, maps = normalize_joined([])
    assert text == "" and maps.bounds.tolist() == [0] and len(maps) == 0
    with pytest.raises(ValueError, match=r"len\(text\) = 2, got \[\(1, 3\)\]"):
        normalize_joined([("同志们：好", [(0, 5)]), ("讲话", [(1, 3)])])


def test_offset_maps_keep_only_the_breaks():
    # consecutive originals are one run: "安全 生产" breaks after the space; "２０２４" is one wide character, after
    # which "年" starts a run
    text = normalize_spans("安全 生产２０２４年", [(0, 10)])
    maps = OffsetMaps.of([text])
    assert maps.at.tolist() == [0, 2, 5] and maps.base.tolist() == [0, 3, 9]
    assert maps.wide_at.tolist() == [4] and maps.wide_end.tolist() == [9]


def test_normalize_many_names_the_item_with_a_bad_span():
    assert normalize_many([]) == []
    with pytest.raises(ValueError, match=r"len\(text\) = 2, got \[\(1, 3\)\]"):
        normalize_many([("同志们：好", [(0, 5)]), ("讲话", [(1, 3)])])


def test_normalize_spans_keeps_runs_inside_their_span():
    text = "某某2024年"
    assert normalize_spans(text, [(0, 6), (6, 7)]).text == P + P + "年"
    n = normalize_spans(text, [(0, 1), (1, 4), (4, 7)])  # 某 | 某20 | 24年: no run crosses a span boundary
    assert n.text == "某" + "某" + P + P + "年"
    assert [n.original_range(i, i + 1) for i in range(len(n))] == [(0, 1), (1, 2), (2, 4), (4, 6), (6, 7)]
    # a letter in the next span does not stop a placeholder, as it does within one span
    assert normalize_spans("xxa", [(0, 2), (2, 3)]).text == P + "a"
    assert normalize_spans("xxa", [(0, 3)]).text == "xxa"


def test_normalize_spans_edge_cases():
    assert same(normalize_spans("abc", []), concat([]))
    assert same(normalize_spans("abc", [(1, 1), (3, 3)]), concat([]))
    assert normalize_spans("", [(0, 0)]).text == ""
    n = normalize_spans("同志们：好", np.array([[3, 5], [0, 2]]))
    assert n.text == "好同志" and list(n.starts) == [4, 0, 1]
    for bad in ([(0, 9)], [(2, 1)], [(-1, 2)]):
        with pytest.raises(ValueError, match="0 <= start <= end <= len"):
            normalize_spans("同志们：好", bad)


@pytest.mark.parametrize("jit", ["0", pytest.param("1", marks=needs_numba)])
def test_offsets_beyond_int32_use_int64(jit, monkeypatch):
    monkeypatch.setattr(normalize_module, "_OFFSET32_LIMIT", 8)
    monkeypatch.setenv("DUPSPEECH_JIT", jit)
    text = "今年，XX同志在2024年讲话。"
    spans = [(0, 6), (6, 16)]
    for n in (normalize(text), normalize_spans(text, spans), *normalize_many([(text, spans)] * 2)):
        assert n.starts.dtype == n.ends.dtype == np.int64
        assert n.text == normalize("今年XX同志在2024年讲话").text
    assert normalize("短句").starts.dtype == np.int32


@settings(max_examples=500)
@given(st.lists(st.sampled_from(["x", "×", "*", "xxx", "×××", "*×*", "某", "某某", "0", "9", "12", ".", "a", "年"]),
                max_size=12).map("".join), st.booleans())
def test_fast_run_patterns_find_the_same_runs(text, fold_numbers):
    slow, fast = normalize_module._RUNS[fold_numbers], normalize_module._FAST_RUNS[fold_numbers]
    assert [m.span() for m in fast.finditer(text)] == [m.span() for m in slow.finditer(text)]


def test_the_span_separator_never_comes_out_of_the_table():
    table = normalize_module._bmp_table()
    assert table[normalize_module._SEP] == 0 and not (table == normalize_module._SEP).any()


def test_a_lone_surrogate_is_dropped_not_an_error():
    # texts given from Python may hold one (ingest measures them with "surrogatepass")
    assert normalize("会\ud800议").text == "会议"
    page = "讲话\n作者\udc80\n今天开会。"
    assert normalize_spans(page, [(0, 2), (6, 11)]).text == "讲话今天开会"


@needs_numba
@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="xX×*＊某0123456789.az中\n", max_size=40), st.booleans())
def test_compiled_runs_are_the_regular_expressions_runs(text, fold_numbers):
    chars = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    assert np.array_equal(normalize_module._runs_jit(chars, fold_numbers), normalize_module._runs(chars, fold_numbers))
