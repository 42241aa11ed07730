"""End to end through the library: sources, determinism, errors, every file accounted for."""

from __future__ import annotations

import json
import os

import pytest

import dupspeech
from dupspeech.errors import ConfigError, CorpusError

TEMPLATE = (
    "同志们：\n今天我们召开{place}安全生产工作会议，主要任务是贯彻落实上级部署，研究安排下一阶段工作。\n"
    "一、提高思想认识\n安全生产事关人民群众生命财产安全，{place}各级各部门要把安全生产摆在更加突出的位置，"
    "坚决克服麻痹思想和侥幸心理。\n二、压实工作责任\n各乡镇要落实属地责任，各部门要落实监管责任，企业要落实主体责任，"
    "层层签订责任书，确保责任落实到岗到人。\n三、强化隐患排查\n要组织开展拉网式排查，对排查出的隐患建立台账，"
    "明确整改时限和责任人，确保整改到位。\n"
)
OTHER = (
    "同志们：\n防汛工作关系到全县经济社会发展大局。当前已进入主汛期，降雨偏多，形势复杂严峻。\n"
    "一、加强监测预警\n气象、水利部门要密切关注雨情水情，及时发布预警信息，做到早发现、早报告、早处置。\n"
    "二、做好物资储备\n各乡镇要备足编织袋、救生衣、冲锋舟等防汛物资，组建应急抢险队伍，随时待命。\n"
)


def corpus():
    return {
        "a.txt": f"【篇1】在全县安全生产会议上的讲话\n{TEMPLATE.format(place='全县')}【篇2】在防汛会议上的讲话\n{OTHER}",
        "b/c.txt": f"第一篇：在全市安全生产会议上的讲话\n{TEMPLATE.format(place='全市')}",
        "d.txt": "",
    }


def test_cluster_from_python_texts():
    r = dupspeech.cluster(corpus())
    assert [f.status for f in r.files] == ["ok", "ok", "skipped"]
    assert r.files[2].reason
    assert [s.id for s in r.speeches] == ["a.txt#1", "a.txt#2", "b/c.txt#1"]
    assert [c.speeches for c in r.clusters] == [("a.txt#1", "b/c.txt#1")]
    assert r.pairs[0].relation == "near_duplicate"


def test_cluster_from_folder_matches_python_texts(tmp_path):
    for name, text in corpus().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    from_disk = dupspeech.cluster(tmp_path).to_dict()
    from_py = dupspeech.cluster(corpus()).to_dict()
    assert from_disk["speeches"] == from_py["speeches"]
    assert from_disk["clusters"] == from_py["clusters"]
    assert {f["file"] for f in from_disk["files"]} == {"a.txt", "b/c.txt", "d.txt"}


def test_json_contract_and_determinism():
    one = dupspeech.cluster(corpus(), seed=3).to_json()
    two = dupspeech.cluster(corpus(), seed=3).to_json()
    assert one == two
    data = json.loads(one)
    assert data["version"] == 1
    assert set(data) >= {"version", "files", "speeches", "pairs", "clusters", "copies"}
    assert set(data["files"][0]) >= {"file", "encoding", "status", "reason"}
    assert set(data["speeches"][0]) >= {"id", "file", "start_line", "end_line", "title", "marker", "chars"}
    assert set(data["pairs"][0]) >= {"a", "b", "jaccard", "containment_a_in_b", "containment_b_in_a"}
    assert data["clusters"] == [{"id": 0, "speeches": ["a.txt#1", "b/c.txt#1"], "contained": []}]
    copy = data["copies"][0]
    assert set(copy) >= {"source", "target", "similarity", "direction", "evidence"}
    assert set(copy["source"]) == {"speech", "start_line", "end_line", "start_char", "end_char"}
    assert copy["direction"] in ("source_earlier", "undetermined")


def test_seed_determinism_on_seeds_corpus(seeds_dir):
    assert dupspeech.cluster(seeds_dir, seed=5).to_json() == dupspeech.cluster(seeds_dir, seed=5).to_json()


def test_spans_point_at_the_evidence():
    texts = corpus()
    r = dupspeech.cluster(texts)
    for s in r.speeches:
        text = texts[s.file]
        assert text[s.span.start : s.span.end].startswith(("【篇", "第一篇"))
        for p in s.paragraphs:
            assert text.count("\n", 0, p.span.start) + 1 == p.span.start_line


def test_errors():
    with pytest.raises(CorpusError, match="no such"):
        dupspeech.cluster("/nonexistent/folder")
    with pytest.raises(CorpusError, match="could be read"):
        dupspeech.cluster({"empty.txt": ""})
    with pytest.raises(CorpusError, match="no .txt"):
        dupspeech.cluster({})
    with pytest.raises(ConfigError, match="threshold"):
        dupspeech.cluster(corpus(), threshold=1.5)


def test_split_only():
    r = dupspeech.split(corpus())
    assert len(r.speeches) == 3 and r.pairs == ()


def test_progress_callback_sees_every_stage():
    seen = set()
    dupspeech.cluster(corpus(), progress=lambda stage, done, total: seen.add(stage))
    assert {"read", "shingle", "minhash", "verify"} <= seen


def test_jobs_give_byte_identical_output(seeds_dir):
    one = dupspeech.cluster(seeds_dir, jobs=1).to_json()
    assert dupspeech.cluster(seeds_dir, jobs=2).to_json() == one
    assert dupspeech.cluster(seeds_dir, jobs=3).to_json() == one


def test_results_pickle_to_equal_objects():
    import pickle

    r = dupspeech.cluster(corpus(), min_shingles=5)
    assert r.copies and r.dropped is not None
    back = pickle.loads(pickle.dumps(r))
    assert back == r and back.to_json() == r.to_json()
    assert back.documents[0].line_starts == r.documents[0].line_starts


def test_jobs_validation():
    with pytest.raises(ConfigError, match="jobs"):
        dupspeech.cluster(corpus(), jobs=-1)


def test_speech_text_is_its_paragraphs_normalised_one_by_one(seeds_dir):
    import numpy as np

    from dupspeech.api import read_and_split, speech_text
    from dupspeech.normalize import concat, normalize

    _, docs, speeches, _ = read_and_split(seeds_dir)
    by_name = {d.name: d for d in docs}
    for s in speeches:
        doc = by_name[s.file]
        for fold in (True, False):
            got = speech_text(doc, s, fold_numbers=fold)
            want = concat([normalize(doc.text[p.span.start : p.span.end], fold_numbers=fold, base=p.span.start)
                           for p in s.paragraphs if p.kind != "title"])
            assert got.text == want.text
            assert np.array_equal(got.starts, want.starts) and np.array_equal(got.ends, want.ends)


def test_a_run_makes_the_garbage_collector_run_less_often_and_restores_it(monkeypatch):
    import gc

    from dupspeech import api

    seen = []
    real = api.read_and_split

    def spy(*args, **kwargs):
        seen.append(gc.get_threshold())
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "read_and_split", spy)
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 500)  # a caller's own higher setting is kept
        dupspeech.cluster({"a.txt": "【篇1】讲话\n同志们，今天开会。"})
        assert seen == [(50_000, 20, 500)] and gc.get_threshold() == (700, 10, 500)
        with pytest.raises(ConfigError):
            dupspeech.cluster({"a.txt": "x"}, threshold=2.0)
        monkeypatch.setattr(api, "_match", lambda *a, **k: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            dupspeech.cluster({"a.txt": "【篇1】讲话\n同志们，今天开会。"})
        assert gc.get_threshold() == (700, 10, 500)  # restored after an error too
    finally:
        gc.set_threshold(*before)


def test_copy_locations_looked_up_in_one_go_agree_with_the_documents():
    """``api._locations`` (all passages at once over every page's line starts) gives what ``Document.line_of`` and
    ``Normalized.original_range`` give one by one, on pages with LF, CRLF and lone CR line ends, a page ending with
    a line break (its last line start is its length) and one without."""
    import numpy as np

    from dupspeech import api
    from dupspeech.api import read_and_split, speech_text
    from dupspeech.normalize import OffsetMaps

    pages = {
        "crlf.txt": f"【篇1】在全县会议上的讲话\r\n{TEMPLATE.format(place='全县')}".replace("\n", "\r\n"),
        "cr.txt": f"第一篇：在全市会议上的讲话\r{TEMPLATE.format(place='全市')}".replace("\n", "\r").rstrip("\r"),
        "lf.txt": f"【篇1】在防汛会议上的讲话\n{OTHER}\n【篇2】在全区会议上的讲话\n{TEMPLATE.format(place='全区')}",
    }
    _, docs, speeches, _ = read_and_split(pages)
    by_name = {d.name: d for d in docs}
    texts = [speech_text(by_name[s.file], s) for s in speeches]
    rng = np.random.default_rng(7)
    who = rng.integers(0, len(speeches), 200)
    x0 = np.array([rng.integers(0, len(texts[w]) - 1) for w in who])
    x1 = np.array([rng.integers(a + 1, len(texts[w]) + 1) for a, w in zip(x0, who)])
    got = api._locations(speeches, texts, by_name, who, x0, x1)
    # only the texts' offset maps (as a run keeps them) give the same locations, read in chunks of any size
    for chunk in (1, 50, 1 << 20):
        assert api._locations(speeches, OffsetMaps.of(texts, chunk=chunk), by_name, who, x0, x1) == got
    for loc, w, a, b in zip(got, who.tolist(), x0.tolist(), x1.tolist()):
        doc = by_name[speeches[w].file]
        start, end = texts[w].original_range(a, b)
        assert (loc.speech, loc.start_line, loc.end_line, loc.start_char, loc.end_char) == (
            speeches[w].id, doc.line_of(start), doc.line_of(end - 1), start, end)
    assert {speeches[w].file for w in who.tolist()} == set(pages) and len({loc.start_line for loc in got}) > 5


def test_result_types_build_as_their_dataclass_init_does():
    """The result types' faster ``__init__`` (models._fast_init) sets the same fields, takes the same positional
    and keyword arguments and defaults, runs ``__post_init__``, and leaves the objects frozen."""
    import dataclasses
    import inspect

    from dupspeech import models

    assert len(models._DATACLASS_INIT) == 11
    for cls, generated in models._DATACLASS_INIT.items():
        assert inspect.signature(cls.__init__) == inspect.signature(generated)
        required = [f for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
        values = [f"v{k}" if f.name not in ("text", "name") else f"line {k}\nnext" for k, f in enumerate(required)]
        for args, kwargs in ((values, {}), ([], {f.name: v for f, v in zip(required, values)})):
            fast = cls(*args, **kwargs)
            slow = object.__new__(cls)
            generated(slow, *args, **kwargs)
            assert [getattr(fast, f.name) for f in dataclasses.fields(cls)] == \
                [getattr(slow, f.name) for f in dataclasses.fields(cls)]
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(fast, required[0].name, "changed")
        with pytest.raises(TypeError):
            cls(*(["x"] * (len(dataclasses.fields(cls)) + 1)))  # too many, as the dataclass's own __init__ says
        with pytest.raises(TypeError):
            cls(*values, unknown=1)
    page = models.Document("a.txt", "x\ny\n")
    assert page.line_starts == (0, 2, 4)  # __post_init__ ran


def test_freed_memory_goes_back_to_the_system(monkeypatch):
    """What many arrays of a few KiB free stays with glibc's heap (it counts in the next stage's peak) until
    release_freed_memory gives it back. Only where the C library can (glibc), and where RSS can be read."""
    import numpy as np

    from dupspeech import api

    status = "/proc/self/status"
    if api._malloc_trim() is None or not os.path.exists(status):
        pytest.skip("no malloc_trim or no /proc here (not glibc Linux)")

    def rss_mib() -> int:
        with open(status) as f:
            return next(int(line.split()[1]) >> 10 for line in f if line.startswith("VmRSS"))

    def freed_and_released() -> int:
        arrays = [np.ones(8192) for _ in range(3200)]  # 64 KiB each, from the heap: 200 MiB
        kept = arrays[::50]  # a few still in use hold the heap's top, so it cannot simply shrink
        del arrays
        before = rss_mib()
        api.release_freed_memory()
        assert len(kept) == 64
        return before - rss_mib()

    for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    assert freed_and_released() > 100
    # where the user asked glibc to keep freed memory (docs/scale.md), it is kept
    calls = []
    monkeypatch.setattr(api, "_malloc_trim", lambda: calls.append)
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=2147483647")
    api.release_freed_memory()
    monkeypatch.delenv("GLIBC_TUNABLES")
    monkeypatch.setenv("MALLOC_TOP_PAD_", "268435456")
    api.release_freed_memory()
    monkeypatch.delenv("MALLOC_TOP_PAD_")
    api.release_freed_memory()
    assert calls == [0]


@pytest.mark.parametrize("at_once", [1, 7, 100])
def test_candidates_verified_a_part_at_a_time_give_the_same_pairs(monkeypatch, at_once):
    """find_pairs verifies its candidates VERIFY_AT_ONCE at a time (so that hundreds of millions of them fit in
    memory): any part size gives the pairs of one pass, in the same order, and the sets' bucket counts (one pass
    over every set) are made once, not once a part."""
    import importlib

    import numpy as np

    from dupspeech import api as api_module
    from dupspeech.cluster import Ragged

    cluster_module = importlib.import_module("dupspeech.cluster")  # the package's ``cluster`` is the function
    made = []
    real = cluster_module.bucket_counts
    monkeypatch.setattr(cluster_module, "bucket_counts", lambda *a: (made.append(1), real(*a))[1])

    monkeypatch.setenv("DUPSPEECH_JIT", "1")
    rng = np.random.default_rng(3)
    bases = [rng.integers(0, 2**63, 300, dtype=np.uint64) for _ in range(6)]  # speeches of 6 families
    sets = Ragged.of([np.unique(rng.choice(bases[k % 6], int(rng.integers(120, 300)), replace=False))
                      for k in range(30)])
    cfg = api_module.settings(min_shingles=10)
    every = np.array([i * 30 + j for i in range(30) for j in range(i + 1, 30)], dtype=np.int64)
    whole = api_module.find_pairs(sets, cfg, extra=every)
    assert len(made) == 1
    monkeypatch.setattr(api_module, "VERIFY_AT_ONCE", at_once)
    assert api_module.find_pairs(sets, cfg, extra=every) == whole
    assert len(made) == 2
    assert len(whole) > 5 and {v.relation for v in whole} == {"near_duplicate", "containment"}


@pytest.mark.parametrize("jit", ["1", "0"])
def test_a_family_recycled_more_often_than_bucket_neighbours_still_joins(monkeypatch, jit):
    """Fourteen copies of one speech fill their speech LSH buckets; with ``bucket_neighbours=2`` each is a
    candidate with the next two of a bucket only, so far fewer pairs are verified, yet the families are the
    same: the fourteen, and four copies of another speech that shares a fifth of the first one's shingles."""
    import numpy as np

    from dupspeech import api as api_module
    from dupspeech.cluster import Ragged, families

    monkeypatch.setenv("DUPSPEECH_JIT", jit)  # the compiled banding kernel and the numpy path
    rng = np.random.default_rng(5)
    base = rng.integers(0, 2**63, 400, dtype=np.uint64)
    other = np.concatenate([base[:80], rng.integers(0, 2**63, 320, dtype=np.uint64)])

    def copy(of: np.ndarray) -> np.ndarray:  # a twentieth dropped, a few shingles of its own
        kept = of[rng.random(len(of)) > 0.05]
        return np.unique(np.concatenate([kept, rng.integers(0, 2**63, 8, dtype=np.uint64)]))

    sets = Ragged.of([copy(base) for _ in range(14)] + [copy(other) for _ in range(4)])
    sizes = [len(s) for s in sets]
    every = api_module.find_pairs(sets, api_module.settings(bucket_neighbours=None))
    few = api_module.find_pairs(sets, api_module.settings(bucket_neighbours=2))
    assert len(every) == 14 * 13 // 2 + 6
    assert 13 + 3 <= len(few) < len(every) - 20
    assert families(len(sets), few, sizes) == families(len(sets), every, sizes) == [
        (list(range(14)), []), (list(range(14, 18)), [])]
    assert {(v.i, v.j) for v in few} <= {(v.i, v.j) for v in every}
    with pytest.raises(ConfigError, match="bucket_neighbours"):
        dupspeech.cluster({"a.txt": TEMPLATE.format(place="全县")}, bucket_neighbours=0)
