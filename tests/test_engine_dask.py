"""The Dask engine gives byte-identical results to the local pipeline, on a real multi-process LocalCluster."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dupspeech
from dupspeech import engine_dask
from dupspeech.index import candidate_pairs, grouped_pairs

distributed = pytest.importorskip("distributed", reason="the Dask engine needs: pip install 'dupspeech[dask]'")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "corpus"


@pytest.fixture(scope="module")
def scheduler():
    """One real cluster for the module: two worker processes, one thread each."""
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    sys.path.insert(0, str(ROOT))
    from benchmarks.generate import generate_corpus

    out = tmp_path_factory.mktemp("gen") / "corpus"
    generate_corpus(out, seed=7, families=8)
    return out


def test_examples_identical_to_local(scheduler):
    timings: dict = {}
    on_dask = engine_dask.cluster(EXAMPLES, scheduler=scheduler, timings=timings)
    assert on_dask.to_json() == dupspeech.cluster(EXAMPLES).to_json()
    assert on_dask.copies and on_dask.clusters
    assert {"prepare", "shuffle", "verify", "align"} <= set(timings)


def test_generated_corpus_identical_to_local(scheduler, generated):
    on_dask = engine_dask.cluster(generated, scheduler=scheduler, partitions=5)
    local = dupspeech.cluster(generated)
    assert on_dask.to_json() == local.to_json()
    assert len(local.clusters) >= 5 and len(local.copies) > 20


def test_options_and_dates_identical_to_local(scheduler, generated):
    first = sorted(p.relative_to(generated).as_posix() for p in generated.rglob("*.txt"))[0]
    options = dict(threshold=0.7, ngram=4, num_perm=64, seed=3, dates={first: "2001"}, bucket_neighbours=1)
    assert (engine_dask.cluster(generated, scheduler=scheduler, partitions=3, **options).to_json()
            == dupspeech.cluster(generated, **options).to_json())
    assert (engine_dask.cluster(EXAMPLES, scheduler=scheduler, provenance=False).to_json()
            == dupspeech.cluster(EXAMPLES, provenance=False).to_json())


def test_one_page_and_more_partitions_than_pages(scheduler):
    page = EXAMPLES / "04_jianghua_heji.txt"
    assert (engine_dask.cluster(page, scheduler=scheduler, partitions=8).to_json()
            == dupspeech.cluster(page).to_json())


def test_errors_are_the_local_ones(scheduler, tmp_path):
    with pytest.raises(dupspeech.CorpusError, match="no such file"):
        engine_dask.cluster(tmp_path / "missing", scheduler=scheduler)
    with pytest.raises(dupspeech.ConfigError, match="threshold"):
        engine_dask.cluster(EXAMPLES, scheduler=scheduler, threshold=2.0)
    with pytest.raises(dupspeech.ConfigError, match="cannot reach the Dask scheduler"):
        engine_dask.cluster(EXAMPLES, scheduler="tcp://127.0.0.1:9", connect_timeout=1)


# --- the spill folder: partitions on disk, not in the workers' memory ---------------------------------------


def _held() -> set[str]:
    """The kinds of data the workers of the running engine hold between tasks (Dask's own store), once the
    results the driver has already collected are released (Dask forgets them a moment later)."""

    def held(dask_worker) -> list[str]:
        return [type(v).__name__ for v in dask_worker.data.values()]

    for _ in range(100):
        kinds = {kind for kinds in distributed.get_client().run(held).values() for kind in kinds}
        if "list" not in kinds:  # the verification results, collected and released
            break
        time.sleep(0.02)
    return kinds


def test_spill_dir_identical_and_only_handles_stay_on_the_workers(scheduler, generated, tmp_path, monkeypatch):
    spill = tmp_path / "spill"
    seen: list[tuple[set[str], list[str]]] = []
    families = engine_dask.families_of

    def spy(*args):  # on the driver, between verification and alignment
        files = sorted(f.name for run in spill.iterdir() for f in run.iterdir()) if spill.exists() else []
        seen.append((_held(), files))
        return families(*args)

    monkeypatch.setattr(engine_dask, "families_of", spy)
    on_disk = engine_dask.cluster(generated, scheduler=scheduler, partitions=5, spill_dir=spill)
    in_memory = engine_dask.cluster(generated, scheduler=scheduler, partitions=5)  # remote, no spill_dir
    local = dupspeech.cluster(generated).to_json()
    assert on_disk.to_json() == local and in_memory.to_json() == local
    (held_on_disk, files), (held_in_memory, no_files) = seen
    # what a partition derives is in files and the workers keep nothing of it (at most a handle), while
    # without a spill folder they keep every partition's texts, shingle sets and seeds
    assert {f"{kind}-{k}.pkl" for kind in ("core", "seeds") for k in range(5)} <= set(files) and not no_files
    assert held_on_disk <= {"_Spilled"} and {"_Core", "Ragged"} <= held_in_memory
    assert spill.is_dir() and list(spill.iterdir()) == []  # the run's subfolder is gone, the folder stays


def test_own_cluster_spills_to_a_temporary_folder_removed_after_the_run_and_on_error(monkeypatch):
    made: list[str] = []
    mkdtemp = tempfile.mkdtemp

    def recording(*args, **kwargs):
        path = mkdtemp(*args, **kwargs)
        if kwargs.get("prefix") == "dupspeech-spill-":
            made.append(path)
        return path

    monkeypatch.setattr(engine_dask.tempfile, "mkdtemp", recording)
    families = engine_dask.families_of
    during: list[list[str]] = []

    def spy(*args):
        during.append(sorted(os.listdir(made[-1])))
        return families(*args)

    monkeypatch.setattr(engine_dask, "families_of", spy)
    assert engine_dask.cluster(EXAMPLES, n_workers=2).to_json() == dupspeech.cluster(EXAMPLES).to_json()
    assert "core-0.pkl" in during[0] and not os.path.exists(made[0])

    def failing(*args):
        spy(*args)
        raise RuntimeError("stopped on purpose")

    monkeypatch.setattr(engine_dask, "families_of", failing)
    with pytest.raises(RuntimeError, match="on purpose"):
        engine_dask.cluster(EXAMPLES, n_workers=2)
    assert len(made) == 2 and "core-0.pkl" in during[1] and not os.path.exists(made[1])


def test_spill_dir_errors_say_how_to_fix(scheduler, tmp_path):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    with pytest.raises(dupspeech.ConfigError, match="cannot write in the spill folder .* a folder you can write"):
        engine_dask.cluster(EXAMPLES, scheduler=scheduler, spill_dir=not_a_folder)

    class Blind:  # a cluster where one worker does not see the folder
        def run(self, fn, *args):
            return {"tcp://10.0.0.1:4000": True, "tcp://10.0.0.2:4000": False}

    with pytest.raises(dupspeech.ConfigError, match=r"not visible on the worker\(s\) tcp://10.0.0.2:4000; .*share"):
        engine_dask._check_visible(Blind(), str(tmp_path), tmp_path)


# --- the shuffle's grouping against the local banding (no cluster needed) -----------------------------------


def test_band_keys_cut_in_batches_are_the_same(monkeypatch):
    """A large partition's windows are keyed a batch at a time; the pieces must not depend on the batches."""
    rng = np.random.default_rng(5)
    cfg = dupspeech.settings()
    windows = [rng.integers(0, 2**32, size=(n, cfg.align.num_perm), dtype=np.uint32) for n in (3, 0, 7, 1, 0, 5, 2)]
    sigs = rng.integers(0, 2**32, size=(4, cfg.minhash.num_perm), dtype=np.uint32)
    eligible = np.array([0, 2, 3, 5])
    whole = engine_dask._emit(sigs, eligible, windows, cfg, 3)
    monkeypatch.setattr(engine_dask, "WINDOW_BATCH", 4)
    batched = engine_dask._emit(sigs, eligible, windows, cfg, 3)
    assert sum(len(piece[2]) for piece in whole) == 18 * engine_dask.lsh_params(cfg.align.window_threshold, cfg.align.num_perm)[0]
    for a, b in zip(whole, batched):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))

signature_sets = st.lists(st.lists(st.integers(0, 5), min_size=16, max_size=16), min_size=2, max_size=30)


@settings(max_examples=60, deadline=None)
@given(rows=signature_sets, n_reducers=st.integers(1, 4))
def test_band_shuffle_finds_the_pairs_of_one_lsh_index(rows, n_reducers):
    sigs = np.array(rows, dtype=np.uint32)  # few distinct values, so bands collide often
    groups = np.arange(len(sigs)) // 2  # two rows per group, as windows of one speech
    for threshold, max_groups, near in ((0.5, None, None), (0.3, 3, None), (0.5, None, 1), (0.3, None, 2)):
        keys, row, dest = engine_dask._keyed(sigs, threshold, n_reducers)
        # what each reducer sees of the keys (a bucket's rows all reach one, so its neighbours are the same)
        reduced = [engine_dask._bucket_pairs(keys[dest == r], groups[row[dest == r]], max_groups, near)
                   for r in range(n_reducers)]
        found = {(int(g), int(h)) for pairs, _ in reduced for g, h in pairs}
        assert found == grouped_pairs(sigs, groups, threshold=threshold, max_groups=max_groups, neighbours=near)
        for crowd in (2, 3, len(sigs)):  # whether a bucket is crowded is a reducer's to tell, as each has its own
            reduced = [engine_dask._bucket_pairs(keys[dest == r], groups[row[dest == r]], max_groups, near, crowd)
                       for r in range(n_reducers)]
            for min_hits in (1, 2, 3):  # bucket counts add up over the reducers as over one index's bands
                assert engine_dask._window_pairs(reduced, len(sigs), min_hits) == grouped_pairs(
                    sigs, groups, threshold=threshold, max_groups=max_groups, min_hits=min_hits, neighbours=near,
                    crowd=crowd)
    keys, row, dest = engine_dask._keyed(sigs, 0.5, 1)
    pairs = {(int(g), int(h)) for g, h in engine_dask._bucket_pairs(keys, row, None)[0]}
    assert pairs == set(candidate_pairs(sigs, list(range(len(sigs))), threshold=0.5, seed=1))  # datasketch's own


def test_workers_running_the_compiled_kernels_give_the_local_result(generated, monkeypatch):
    """Workers that run the compiled kernels (the whole-partition preparation among them) give what the local
    numpy path gives."""
    monkeypatch.setenv("DUPSPEECH_JIT", "1")  # inherited by the worker processes started below
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, distributed.Client(cluster) as client:
        assert set(client.run(lambda: __import__("dupspeech")._jit.enabled()).values()) == {True}
        on_dask = engine_dask.cluster(generated, scheduler=cluster.scheduler_address, partitions=3)
    monkeypatch.setenv("DUPSPEECH_JIT", "0")
    assert on_dask.to_json() == dupspeech.cluster(generated).to_json()
