"""Smoke run of the benchmark (``benchmarks/bench.py``) on a tiny corpus, so the benchmark cannot rot."""

from __future__ import annotations

import importlib.util
import json
import sys
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import baselines, bench  # noqa: E402

INSTALLED = {key: all(importlib.util.find_spec(p) for p in pkgs) for key, pkgs in bench.BASELINE_PACKAGES.items()}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[str, dict]:
    """One tiny run with every part switched on: both modes' code paths are shared, char mode is the fast one."""
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "results.json"
    chosen = ",".join(k for k, ok in INSTALLED.items() if ok)
    argv = ["--size", "120KB", "--seed", "3", "--baselines", chosen, "--profile", "--profile-top", "5",
            "--tracemalloc", "--cache-dir", str(tmp / "cache"), "--out", str(out)]
    buf = StringIO()
    with redirect_stdout(buf):
        assert bench.main(argv) == 0
    return buf.getvalue(), json.loads(out.read_text(encoding="utf-8"))


def test_table_has_every_stage_and_run(smoke):
    table, report = smoke
    stages = report["runs"]["dupspeech"]["stages"]
    for stage in ("read", "segment", "shingle", "minhash", "lsh", "verify", "families", "align"):
        assert stage in stages, stage
        assert f"| {stage} |" in table
    for group in bench.GROUPS:
        assert group in table
    assert "dupspeech cluster (provenance)" in table and "dupspeech cluster --no-provenance" in table
    assert "corpus x2" in table and "### Targets" in table and "cProfile" in table and "tracemalloc" in table


def test_figures_are_consistent(smoke):
    _, report = smoke
    fig = report["figures"]
    assert fig["chars"] > 10_000 and fig["speeches"] > 5
    for key, row in fig["rows"].items():
        assert row["wall"] > 0 and row["chars_per_s"] > 0 and row["peak_rss"] > 0, key
    # dupspeech's own verified pairs are all "found" by itself; the x2 corpus has about twice the characters
    assert fig["rows"]["dupspeech"]["recall_of_verified"] == 1.0
    assert 1.5 < fig["scaling"]["chars_ratio"] < 2.5
    assert {t["target"].split()[0] for t in fig["targets"]} >= {"char", "peak", "2x"}
    assert 1.5 < fig["scaling"]["speeches_ratio"] < 3
    assert report["date"] and report["machine"]["cores"]


@pytest.mark.parametrize("key", ["a", "b"])
def test_baselines_ran_or_were_skipped(smoke, key):
    table, report = smoke
    if not INSTALLED[key]:
        assert key not in report["runs"]
        return
    run = report["runs"][key]
    assert set(run["stages"]) == {"shingle", "minhash", "lsh"}
    assert bench.BASELINE_LABELS[key] in table
    # the baselines search the same speeches: they find nearly all of dupspeech's verified pairs
    assert report["figures"]["rows"][key]["recall_of_verified"] >= 0.8


def test_corpus_is_cached(smoke, tmp_path):
    _, report = smoke
    corpus = Path(report["corpus"]["dir"])
    assert bench.corpus_dir(report["corpus"]["size"], report["corpus"]["seed"], corpus.parent) == corpus


def test_synthesised_corpus_is_cached_apart(tmp_path):
    mixed = bench.corpus_dir(40_000, 5, tmp_path)
    synth = bench.corpus_dir(40_000, 5, tmp_path, gov_reports=False)
    assert synth != mixed and synth.name.startswith("corpus-40000-builtin-seed5-")
    assert json.loads((synth / "truth.json").read_text(encoding="utf-8"))["text_source"] == "builtin"
    assert bench.corpus_dir(40_000, 5, tmp_path, gov_reports=False) == synth


def test_baselines_agree_on_a_small_input():
    texts = ["各乡镇要压实属地责任，对辖区内的企业逐一开展安全检查，建立隐患台账。" * 3] * 2 + ["完全不同的一段话，讲的是别的事情。" * 3]
    assert baselines.datasketch_jieba(texts, mode="char", num_perm=64).pairs == [(0, 1)]
    if INSTALLED["b"]:
        run = baselines.rensa_pipeline(texts, mode="char", num_perm=64)
        assert run.pairs == [(0, 1)] and set(run.seconds) == {"shingle", "minhash", "lsh"}


def test_bad_options_are_usage_errors(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--baselines", "c"])
    assert "unknown baseline" in capsys.readouterr().err


def test_repeated_runs_take_turns_and_keep_the_median(monkeypatch, tmp_path):
    calls = []
    walls = {"x": iter([3.0, 1.0, 2.0]), "y": iter([5.0, 4.0, 6.0])}

    def fake(spec, work):
        calls.append(spec["task"])
        return {"wall": next(walls[spec["task"]]), "n": len(calls)}

    monkeypatch.setattr(bench, "run_child", fake)
    got = bench.repeated_runs({"x": {"task": "x"}, "y": {"task": "y"}}, 3, tmp_path)
    assert calls == ["x", "y"] * 3
    assert got["x"]["wall"] == 2.0 and got["x"]["walls"] == [3.0, 1.0, 2.0]
    assert got["y"]["wall"] == 5.0 and got["y"]["n"] == 2  # the median run's own record, not a mix


def test_stage_memory_reads_the_peak_at_most_every_few_milliseconds(monkeypatch):
    import time

    reads = []
    monkeypatch.setattr(bench, "peak_rss_bytes", lambda: reads.append(1) or 100 * len(reads))
    timings = bench.StageMemory()
    for k in range(2000):  # reading and splitting a corpus: one update per file and stage, in quick succession
        timings["read" if k % 2 else "segment"] = k
    assert 1 <= len(reads) < 20 and timings.peak_after == {"read": 100 * len(reads), "segment": 100 * len(reads)}
    time.sleep(bench.StageMemory.READ_EVERY)
    timings["align"] = 1.0
    assert timings.peak_after["align"] == 100 * len(reads) and timings["align"] == 1.0
