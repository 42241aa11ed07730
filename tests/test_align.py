"""Provenance: passages, boilerplate, direction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dupspeech
from dupspeech import _jit
from dupspeech.align import Passage, _seed_pairs, align, align_pairs, parse_date, seeds_of, stock_flags
from dupspeech.config import AlignConfig
from dupspeech.errors import ConfigError
from dupspeech.normalize import normalize
from dupspeech.report import result_to_json
from dupspeech.shingle import combine

CFG = AlignConfig()

P1 = "各乡镇要压实属地责任，对辖区内的企业逐一开展安全检查，建立隐患台账，明确整改时限和责任人，确保隐患整改到位。"
P2 = "气象水利部门要密切关注雨情水情变化，及时发布预警信息，做到早发现早报告早处置，坚决守住不死人少伤人的底线。"
P3 = "要加强应急值守，严格执行领导带班和二十四小时值班制度，遇有突发情况第一时间上报，不得迟报漏报瞒报谎报。"
P4 = "各级党组织要充分发挥战斗堡垒作用，广大党员干部要冲锋在前，主动认领责任区，带头参与巡查排险和群众转移。"
OTHER = "今年以来全市经济运行总体平稳，工业生产稳中有升，消费市场逐步回暖，固定资产投资保持较快增长，民生保障持续加强。"

FARM = ("全县要抓好春耕备耕，落实粮食种植面积，推广优良品种和测土配方施肥，加快高标准农田建设，"
        "完善农田水利设施，保障化肥农药等农资供应，稳定农民种粮收益，确保夏粮丰收到手。")
SCHOOL = ("教育部门要持续推进义务教育优质均衡发展，加快薄弱学校改造，补齐乡村学校师资短板，"
          "落实课后服务和学生资助政策，抓好校园安全和食品卫生，办好人民满意的教育。")


def passages(a: str, b: str, cfg: AlignConfig = CFG) -> list[Passage]:
    return align(seeds_of(normalize(a).text, cfg), seeds_of(normalize(b).text, cfg), cfg)


def test_identical_text_rewrapped_is_one_passage():
    b = P1[:20] + "\n" + P1[20:41] + "\n\n" + P1[41:]
    (p,) = passages(P1, b)
    assert (p.a0, p.b0) == (0, 0) and p.a1 == len(normalize(P1).text) and p.similarity == 1.0


def test_light_edits_do_not_split_a_passage():
    edited = P1.replace("各乡镇", "全县各乡镇").replace("逐一开展", "全面开展")
    (p,) = passages(P1 + P2, edited + P2)
    assert p.a1 - p.a0 == len(normalize(P1 + P2).text)
    assert 0.8 < p.similarity < 1.0


def test_placeholder_against_number_and_year_matches():
    a = "2020年全县共排查隐患1024处，整改完成986处，整改率达到百分之九十六以上，各项指标均好于上年同期水平。"
    b = "XX年全县共排查隐患XX处，整改完成××处，整改率达到百分之九十六以上，各项指标均好于上年同期水平。"
    (p,) = passages(a, b)
    assert p.similarity == 1.0


def test_reordered_paragraphs_give_separate_passages():
    found = passages(P1 + P2 + P3, P3 + OTHER + P1)
    spans = sorted((p.a0, p.b0) for p in found)
    n1, n2 = len(normalize(P1).text), len(normalize(P2).text)
    assert len(found) == 2
    assert spans[0][0] == 0 and spans[1][0] == n1 + n2


def test_unrelated_text_gives_nothing():
    assert passages(P1 + P2, OTHER + P4) == []


def test_sentence_added_inside_a_paragraph_keeps_one_passage():
    extra = "同时要举一反三，把问题整改与制度建设结合起来。"
    b = P1[:30] + extra + P1[30:]
    (p,) = passages(P1, b)
    assert p.b1 - p.b0 == len(normalize(b).text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=40), st.lists(st.integers(0, 6), max_size=40), st.integers(1, 3))
def test_seed_pairs_equal_brute_force(a, b, max_occ):
    ha, hb = np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)
    i, j = _seed_pairs(ha, hb, max_occ)
    def usable(x, y):
        return 0 <= x < len(a) and 0 <= y < len(b) and a[x] == b[y] and b.count(b[y]) <= max_occ and a.count(a[x]) <= max_occ

    # usable seeds with a usable neighbour on their diagonal
    expected = [
        (x, y) for x in range(len(a)) for y in range(len(b))
        if usable(x, y) and (usable(x + 1, y + 1) or usable(x - 1, y - 1))
    ]
    assert list(zip(i.tolist(), j.tolist())) == expected


def test_parse_date():
    assert parse_date("2024年1月", "t").text == "2024-01"
    assert parse_date("更新时间:2023-06-15 12:27:53", "t").text == "2023-06-15"
    assert parse_date("在全区２０２５年秋冬会上的讲话", "t").text == "2025"
    assert parse_date("截至1月24日", "t") is None
    assert parse_date("2020年1月24日", "t").before(parse_date("2024年1月", "t"))
    assert not parse_date("2024年", "t").before(parse_date("2024年3月", "t"))


def test_align_config_validation():
    with pytest.raises(ConfigError):
        AlignConfig(k=2)
    with pytest.raises(ConfigError):
        AlignConfig(min_chars=3)
    with pytest.raises(ConfigError):
        AlignConfig(window=4)
    with pytest.raises(ConfigError, match="window_min_hits"):
        AlignConfig(window_min_hits=0)
    for bad in (1, 2.5, "10"):
        with pytest.raises(ConfigError, match="window_crowd"):
            AlignConfig(window_crowd=bad)  # type: ignore[arg-type]
    assert AlignConfig(window_crowd=None).window_crowd is None


# --- through the library -----------------------------------------------------------------------------------

def speech(title: str, *paras: str) -> str:
    return title + "\n同志们：\n" + "\n".join(paras) + "\n谢谢大家！\n"


@pytest.mark.parametrize("paragraphs,min_hits", [
    ((P1, P2, P3, P4), 1),  # paragraphs of about 52 characters: one window meeting, kept by the default
    ((FARM, P2 + P3, SCHOOL, P4 + P1), 2),  # about 105: they meet in several windows, so the faster setting finds them
])
def test_borrowed_paragraphs_are_found_outside_families(paragraphs, min_hits):
    source = speech("在2020年1月全县安全生产会议上的讲话", *paragraphs)
    borrower = speech("在2024年全市经济工作会议上的讲话", OTHER, paragraphs[1], OTHER.replace("全市", "全区"), paragraphs[3])
    r = dupspeech.cluster({"a.txt": source, "b.txt": borrower}, align=AlignConfig(window_min_hits=min_hits))
    assert r.clusters == ()
    real = [c for c in r.copies if not c.boilerplate]
    assert {(c.source.speech, c.target.speech) for c in real} == {("a.txt#1", "b.txt#1")}
    assert sorted((c.source.start_line, c.target.start_line) for c in real) == [(4, 4), (6, 6)]
    for c in real:
        assert source[c.source.start_char : c.source.end_char] == borrower[c.target.start_char : c.target.end_char]
        assert c.direction == "source_earlier"
        assert c.evidence == "date: 2020-01 (title) < 2024 (title)"


def test_direction_undetermined_without_dates_and_from_caller():
    a = speech("在全县安全生产会议上的讲话", P1, P2, P3)
    b = speech("在全市安全生产会议上的讲话", P1, P2, P3)
    r = dupspeech.cluster({"a.txt": a, "b.txt": b})
    assert r.copies and all(c.direction == "undetermined" and c.evidence == "" for c in r.copies)
    r = dupspeech.cluster({"a.txt": a, "b.txt": b}, dates={"b.txt": "2019-05", "a.txt": "2021"})
    assert all(c.source.speech == "b.txt#1" and c.direction == "source_earlier" for c in r.copies)
    assert "given by the caller" in r.copies[0].evidence
    r = dupspeech.cluster({"a.txt": a, "b.txt": b}, order=["b.txt", "a.txt"])
    assert all(c.source.speech == "b.txt#1" for c in r.copies)
    with pytest.raises(ConfigError, match="2024-01"):
        dupspeech.cluster({"a.txt": a, "b.txt": b}, dates={"a.txt": "yesterday"})


def test_stock_phrases_shared_by_unrelated_speeches_are_boilerplate():
    closing = ("同志们，防汛工作责任重大，使命光荣，让我们更加紧密地团结起来，以更加饱满的热情、更加务实的作风投入工作，"
               "坚决打赢防汛救灾这场硬仗，确保安全度汛！")
    texts = {
        f"{k}.txt": speech(f"在第{k}次会议上的讲话", body, closing)
        for k, body in enumerate([P1 + OTHER, P2 + OTHER.replace("经济", "农业"), P3, P4])
    }
    r = dupspeech.cluster(texts)

    def text_of(loc):
        return texts[loc.speech.split("#")[0]][loc.start_char : loc.end_char]

    # 0 and 1 share a real paragraph: their shared closing is shown, marked as boilerplate
    between = [c for c in r.copies if {c.source.speech, c.target.speech} == {"0.txt#1", "1.txt#1"}]
    assert any(not c.boilerplate and "消费市场" in text_of(c.source) for c in between)
    assert any(c.boilerplate and text_of(c.source).startswith("同志们，防汛") for c in between)
    # 2 and 3 share only stock language: nothing was copied
    assert not [c for c in r.copies if {c.source.speech, c.target.speech} == {"2.txt#1", "3.txt#1"}]


def test_no_provenance_option():
    a = speech("在全县安全生产会议上的讲话", P1, P2, P3)
    assert dupspeech.cluster({"a.txt": a, "b.txt": a}, provenance=False).copies == ()


# --- on the seeds, checked by hand ---------------------------------------------------------------------------

def test_seed_copies(seeds_dir):
    r = dupspeech.cluster(seeds_dir)
    p1, p3, p4 = "001_0971c2d1573ab3b5.txt", "003_3a51c751c6bb87b6.txt", "004_d1ad4b9a7ddf73f7.txt"

    def between(a, b):
        return [c for c in r.copies if {c.source.speech, c.target.speech} == {a, b} and not c.boilerplate]

    # 004's 篇3 is the first half of 003's 篇二 (lines 59-83 there), re-wrapped into lines 38-48
    (c,) = between(f"{p3}#2", f"{p4}#3")
    side3 = c.source if c.source.speech.startswith(p3) else c.target
    side4 = c.target if side3 is c.source else c.source
    assert (side3.start_line, side3.end_line) == (59, 83) and (side4.start_line, side4.end_line) == (38, 48)
    # 001 篇5 borrows the paragraph 经济发展要再兼顾 (001 line 23) from 篇1, otherwise different
    lines = {(c.source.start_line, c.target.start_line) for c in between(f"{p1}#1", f"{p1}#5")}
    assert (23, 133) in lines
    # 003 篇二 quotes 疾风知劲草，板荡识诚臣 from the speech in 004 篇4 (line 84)
    assert any(84 in (c.source.start_line, c.target.start_line) for c in between(f"{p3}#2", f"{p4}#4"))
    text = (seeds_dir / p1).read_text(encoding="utf-8")
    for c in between(f"{p1}#1", f"{p1}#8"):
        assert text[c.source.start_char : c.source.end_char] == text[c.target.start_char : c.target.end_char]
    # the page update time of 001 (2023-06-15) is earlier than the 2025 in 000's titles
    c = next(c for c in r.copies if {c.source.speech, c.target.speech} == {"000_8ee138e640c4cff5.txt#1", f"{p1}#2"})
    assert c.source.speech == f"{p1}#2" and c.direction == "source_earlier"
    assert c.evidence == "date: 2023-06-15 (page update time) < 2025 (title)"


def test_compare_texts_files_and_speeches(tmp_path):
    a = speech("在全县安全生产会议上的讲话", P1, P2, P3)
    b = speech("在全市经济工作会议上的讲话", OTHER, P2)
    r = dupspeech.compare(a, b)
    assert [(c.source.speech, c.target.speech) for c in r.copies if not c.boilerplate] == [("a#1", "b#1")]
    page = tmp_path / "page.txt"
    page.write_text("【篇1】" + a + "【篇2】" + b, encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_text("【篇1】" + b, encoding="utf-8")
    r = dupspeech.compare(f"{page}#1", str(other))
    assert {c.source.speech for c in r.copies} | {c.target.speech for c in r.copies} <= {"page.txt#1", "other.txt#1"}
    assert any(not c.boilerplate for c in r.copies)
    with pytest.raises(dupspeech.CorpusError, match="no #5"):
        dupspeech.compare(f"{page}#5", str(other))


def test_alignment_seeds_are_the_char_shingles():
    # api reuses the seeds as the shingle set when mode and n agree: they must be the same hashes
    from dupspeech.config import ShingleConfig
    from dupspeech.shingle import shingles

    text = normalize(P1 + P2).text
    assert np.array_equal(np.unique(seeds_of(text, AlignConfig(k=5), seed=7)), shingles(text, ShingleConfig(ngram=5, seed=7)))


# --- the compiled kernel (align_pairs with numba) against the numpy path, pair by pair ------------------------

needs_numba = pytest.mark.skipif(not _jit.available(), reason="numba is not installed: only the numpy path runs")


def both_paths(seeds, stock, pairs, cfg=CFG):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", "1")
        compiled = align_pairs(seeds, stock, pairs, cfg)
        assert align_pairs(seeds, stock, pairs, cfg, threads=3) == compiled  # cut in parts run in threads
        mp.setenv("DUPSPEECH_JIT", "0")
        reference = align_pairs(seeds, stock, pairs, cfg)
    return compiled, reference


def edited_copies(draw_ints, base_len, n_speeches):
    """Speeches made from one base sequence by deleting, inserting, replacing and moving stretches."""
    rng = np.random.default_rng(draw_ints)
    base = rng.integers(0, 400, base_len)
    out = [base]
    for _ in range(n_speeches - 1):
        s = out[rng.integers(0, len(out))].copy()
        for _ in range(rng.integers(0, 6)):
            kind, at = rng.integers(0, 4), int(rng.integers(0, max(1, len(s))))
            width = int(rng.integers(1, 60))
            if kind == 0:
                s = np.delete(s, np.s_[at : at + width])
            elif kind == 1:
                s = np.insert(s, at, rng.integers(0, 400, width))
            elif kind == 2:
                s[at : at + width] = rng.integers(0, 400, len(s[at : at + width]))
            else:
                s = np.concatenate([s[at:], s[:at]])
        out.append(s)
    out.append(rng.integers(0, 30, base_len // 2))  # an unrelated speech of few distinct seeds (repeats)
    return [combine(x.astype(np.uint64), 2) if len(x) >= 2 else x.astype(np.uint64) for x in out]


@needs_numba
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 400), st.integers(2, 5), st.floats(0, 0.5),
       st.sampled_from([CFG, AlignConfig(min_chars=10, gap=5, indel=20, max_occurrences=2, boilerplate_chars=30)]),
       st.sampled_from([0, 1, 3]))
def test_kernel_equals_numpy_path(seed, base_len, n, stock_share, cfg, key_bits):
    seeds = edited_copies(seed, base_len, n)
    if key_bits:  # the kernel keys seeds by their 16 high bits: make many seeds of a speech share a key
        low = np.uint64((1 << 48) - 1)
        seeds = [(s & low) | ((s % np.uint64(key_bits + 1)) << np.uint64(48)) for s in seeds]
    rng = np.random.default_rng(seed + 1)
    stock = [rng.random(len(s)) < stock_share for s in seeds]
    if rng.random() < 0.5:  # stock language in long stretches, as real boilerplate comes
        stock = [np.repeat(rng.random(len(s) // 25 + 1) < stock_share, 25)[: len(s)] for s in seeds]
    pairs = [(i, j) for i in range(len(seeds)) for j in range(len(seeds)) if i != j] + [(0, 0)]
    compiled, reference = both_paths(seeds, stock, pairs, cfg)
    assert compiled == reference


@needs_numba
def test_kernel_finds_the_passages_the_numpy_path_finds():
    texts = [P1 + P2 + P3, OTHER + P2 + "同志们：" + P1, P4 + OTHER, P3 + P4 + P1 + P2, ""]
    seeds = [seeds_of(normalize(t).text, CFG) for t in texts]
    stock = [np.zeros(len(s), dtype=bool) for s in seeds]
    pairs = [(0, 1), (0, 2), (0, 3), (1, 3), (2, 3), (3, 3), (0, 4), (4, 1)]
    compiled, reference = both_paths(seeds, stock, pairs)
    assert compiled == reference
    assert [len(p) for p in compiled] == [2, 0, 2, 2, 1, 1, 0, 0]


@needs_numba
def test_cluster_output_is_the_same_with_and_without_the_kernels(monkeypatch, tmp_path):
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    from benchmarks.generate import generate_corpus

    generate_corpus(tmp_path / "corpus", seed=3, families=6)
    results = []
    for flag, jobs in (("1", 1), ("0", 1), ("1", 2)):  # kernels, numpy, kernels in two threads
        monkeypatch.setenv("DUPSPEECH_JIT", flag)
        results.append(dupspeech.cluster(tmp_path / "corpus", jobs=jobs))
    assert len(results[0].copies) > 20  # the corpus has copies to find, so the comparison means something
    assert result_to_json(results[0]) == result_to_json(results[1]) == result_to_json(results[2])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), max_size=60), min_size=1, max_size=8), st.integers(2, 4),
       st.booleans())
def test_stock_flags_compiled_equals_numpy(raw, units_needed, interleaved):
    from dupspeech.cluster import Ragged

    seeds = [np.array(x, dtype=np.uint64) for x in raw]  # small values: zero and repeats occur
    # pairs of speeches form one unit, as a family does; a family's members need not be neighbours
    units = [k % 3 if interleaved else k // 2 for k in range(len(seeds))]
    cfg = AlignConfig(boilerplate_units=units_needed)
    # as a run passes its shingle sets in char mode: a speech too short for a seed has a set of one shingle,
    # which must not count
    distinct = [np.unique(x) if len(x) else np.array([7], dtype=np.uint64) for x in seeds]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", "0")
        expected = stock_flags(seeds, units, cfg)
        given_numpy = stock_flags(seeds, units, cfg, distinct=distinct)
        mp.setenv("DUPSPEECH_JIT", "1")
        got = stock_flags(seeds, units, cfg)
        given = stock_flags(seeds, units, cfg, distinct=distinct)
        # seeds end to end, as a run passes them: threads flag a part of the positions each
        threaded = stock_flags(Ragged.of(seeds), units, cfg, distinct=Ragged.of(distinct), threads=3)
        ragged_sets = stock_flags(seeds, units, cfg, distinct=Ragged.of(distinct))
    assert [g.tolist() for g in ragged_sets] == [e.tolist() for e in expected]
    assert [g.tolist() for g in got] == [e.tolist() for e in expected] == [g.tolist() for g in given]
    assert [g.tolist() for g in given_numpy] == [e.tolist() for e in expected]
    assert [threaded[k].tolist() for k in range(len(seeds))] == [e.tolist() for e in expected]


@pytest.mark.parametrize("jit", ["0", pytest.param("1", marks=needs_numba)])
def test_stock_flags_leave_out_the_set_of_a_speech_without_seeds(jit):
    # speeches shorter than k have no seeds but a shingle set of one value: it must not make that value stock
    from dupspeech.cluster import Ragged

    seeds = [np.array([7, 8], dtype=np.uint64)] + [np.zeros(0, dtype=np.uint64)] * 3
    distinct = Ragged.of([np.array([7, 8], dtype=np.uint64)] + [np.array([7], dtype=np.uint64)] * 3)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", jit)
        flags = stock_flags(seeds, [0, 1, 2, 3], AlignConfig(boilerplate_units=2), distinct=distinct)
    assert [f.tolist() for f in flags] == [[False, False], [], [], []]


def test_stack_windows_empties_the_list_and_keeps_rows_in_order():
    from dupspeech.align import pairs_from_window_matrix, pairs_from_windows, stack_windows

    rng = np.random.default_rng(3)
    sigs = [rng.integers(0, 4, (n, 8)).astype(np.uint32) for n in (3, 0, 5, 1)]
    expected = pairs_from_windows(sigs, CFG)
    work = list(sigs)
    matrix, groups = stack_windows(work)
    assert work == [None] * 4
    assert np.array_equal(matrix, np.concatenate(sigs)) and groups.tolist() == [0, 0, 0, 2, 2, 2, 2, 2, 3]
    assert pairs_from_window_matrix(matrix, groups, CFG) == expected
    assert stack_windows([np.zeros((0, 8), np.uint32)])[0].shape[0] == 0


@pytest.mark.skipif(not _jit.available(), reason="numba is not installed")
@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 30), max_size=40), min_size=1, max_size=9), st.integers(1, 4))
def test_sorting_seeds_in_threads_gives_what_one_call_gives(raw, threads):
    from dupspeech.align import sort_within
    from dupspeech.cluster import flatten

    flat, offsets = flatten([np.array(x, dtype=np.uint64) for x in raw])
    flags = (flat % np.uint64(3) == 0)
    whole = sort_within(flat, offsets, flags, 2)
    parts = sort_within(flat, offsets, flags, 2, threads=threads)
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(whole, parts))


def test_window_min_hits_from_the_command_line(tmp_path):
    """``--window-min-hits`` on ``cluster`` (a corpus or an index, for that run only) and ``dedup``: a borrowed
    paragraph of about 52 characters meets its source in a few window buckets, so asking for 1000 meetings loses
    it; 0 is a usage error naming the option."""
    import json

    from click.testing import CliRunner

    from dupspeech.cli import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(speech("在2020年1月全县安全生产会议上的讲话", P1, P2, P3, P4), encoding="utf-8")
    (corpus / "b.txt").write_text(speech("在2024年全市经济工作会议上的讲话", OTHER, P2, OTHER.replace("全市", "全区"), P4),
                                  encoding="utf-8")

    def run(*args):
        res = CliRunner().invoke(main, [str(a) for a in args])
        return res.exit_code, res.output

    def borrowed(*args) -> int:
        code, out = run("cluster", *args, "--json")
        assert code == 0, out
        return sum(not c["boilerplate"] for c in json.loads(out)["copies"])

    assert borrowed(corpus) == borrowed(corpus, "--window-min-hits", 1) == 2
    assert borrowed(corpus, "--window-min-hits", 1000) == 0
    db = tmp_path / "speeches.db"
    assert run("index", "add", corpus, "--index", db)[0] == 0
    assert borrowed("--index", db, "--window-min-hits", 1000) == 0
    assert borrowed("--index", db) == 2  # the index keeps its own setting
    code, out = run("cluster", corpus, "--window-min-hits", 0)
    assert code == 2 and "window_min_hits" in out
    code, out = run("dedup", corpus, "--out", tmp_path / "clean", "--drop-copied", "--window-min-hits", 1000, "--json")
    assert code == 0, out
    assert not [r for r in json.loads(out)["removals"] if r["what"] == "paragraph"]
    code, out = run("dedup", corpus, "--out", tmp_path / "clean2", "--drop-copied", "--json")
    assert code == 0, out
    assert [r for r in json.loads(out)["removals"] if r["what"] == "paragraph"]


@needs_numba
@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**32 - 1)), max_size=120), min_size=1, max_size=6),
       st.integers(1, 3), st.integers(1, 3))
def test_sort_within_orders_each_speech_as_a_stable_sort(raw, max_occ, threads):
    """Positions sorted by seed, equal seeds in position order: the kernel sorts by the seeds' high halves and
    then by whole seeds within runs of equal high halves, so seeds here share their high halves often (a few
    values) and repeat (a few low halves too)."""
    from dupspeech.align import sort_within
    from dupspeech.cluster import flatten

    seeds = [np.array([(hi << 32) | (lo % 7 if lo % 2 else lo) for hi, lo in x], dtype=np.uint64) for x in raw]
    flags = [np.array([lo % 3 == 0 for _, lo in x], dtype=bool) for x in raw]
    flat, offsets = flatten(seeds)
    flat_flags, _ = flatten(flags, dtype=np.bool_)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", "1")
        order, usable, distinct, d_off, d_pos, d_rare = sort_within(flat, offsets, flat_flags, max_occ, threads=threads)
    for s, (x, f) in enumerate(zip(seeds, flags)):
        o = order[offsets[s] : offsets[s + 1]]
        assert np.array_equal(o, np.argsort(x, kind="stable"))
        values, first, counts = np.unique(x, return_index=True, return_counts=True)
        assert np.array_equal(distinct[d_off[s] : d_off[s + 1]], values)
        assert np.array_equal(d_pos[d_off[s] : d_off[s + 1]], np.searchsorted(x[o], values))
        assert np.array_equal(d_rare[d_off[s] : d_off[s + 1]], [bool((~f[x == v]).any()) for v in values])
        assert np.array_equal(usable[offsets[s] : offsets[s + 1]], counts[np.searchsorted(values, x)] <= max_occ)


def test_ragged_is_a_sequence_of_views():
    from dupspeech.cluster import Ragged

    parts = [np.array([3, 1], dtype=np.uint64), np.zeros(0, dtype=np.uint64), np.array([7], dtype=np.uint64)]
    r = Ragged.of(parts)
    assert len(r) == 3 and [x.tolist() for x in r] == [[3, 1], [], [7]] and r[-1].tolist() == [7]
    assert r[np.int64(0)].base is r.values  # a view, not a copy
    with pytest.raises(IndexError):
        r[3]
    with pytest.raises(TypeError):
        r[0:2]
    assert list(Ragged.of([])) == []
    assert Ragged.of(r) is r and Ragged.of(r, np.bool_).values.dtype == np.bool_  # no copy of one already made


@needs_numba
def test_alignment_of_seeds_end_to_end_equals_alignment_of_a_list():
    """``aligned_arrays`` takes a run's seeds and stock flags as :class:`Ragged` without copying them (global
    numbering, every speech sorted) and gives what it gives for the same arrays as lists (only the pairs' speeches
    gathered)."""
    from dupspeech.align import aligned_arrays
    from dupspeech.cluster import Ragged

    seeds = edited_copies(11, 300, 5)
    rng = np.random.default_rng(2)
    stock = [np.repeat(rng.random(len(s) // 25 + 1) < 0.3, 25)[: len(s)] for s in seeds]
    pa, pb = np.array([0, 0, 1, 3, 4, 2]), np.array([1, 3, 2, 4, 0, 2])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUPSPEECH_JIT", "1")
        as_lists = aligned_arrays(seeds, stock, pa, pb, CFG)
        end_to_end = aligned_arrays(Ragged.of(seeds), Ragged.of(stock, np.bool_), pa, pb, CFG, threads=2)
    assert len(as_lists[0]) > 3 and all(np.array_equal(x, y) for x, y in zip(as_lists, end_to_end))
