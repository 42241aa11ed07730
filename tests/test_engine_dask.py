"""The Dask engine gives byte-identical results to the local pipeline, on a real multi-process LocalCluster."""

from __future__ import annotations

import logging
import sys
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
    options = dict(threshold=0.7, ngram=4, num_perm=64, seed=3, dates={first: "2001"})
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


# --- the shuffle's grouping against the local banding (no cluster needed) -----------------------------------

signature_sets = st.lists(st.lists(st.integers(0, 5), min_size=16, max_size=16), min_size=2, max_size=30)


@settings(max_examples=60, deadline=None)
@given(rows=signature_sets, n_reducers=st.integers(1, 4))
def test_band_shuffle_finds_the_pairs_of_one_lsh_index(rows, n_reducers):
    sigs = np.array(rows, dtype=np.uint32)  # few distinct values, so bands collide often
    groups = np.arange(len(sigs)) // 2  # two rows per group, as windows of one speech
    for threshold, max_groups in ((0.5, None), (0.3, 3)):
        keys, row, dest = engine_dask._keyed(sigs, threshold, n_reducers)
        found = set()
        for r in range(n_reducers):  # what each reducer sees of the keys
            for g, h in engine_dask._bucket_pairs(keys[dest == r], groups[row[dest == r]], max_groups):
                found.add((int(g), int(h)))
        assert found == grouped_pairs(sigs, groups, threshold=threshold, max_groups=max_groups)
    keys, row, dest = engine_dask._keyed(sigs, 0.5, 1)
    pairs = {(int(g), int(h)) for g, h in engine_dask._bucket_pairs(keys, row, None)}
    assert pairs == set(candidate_pairs(sigs, list(range(len(sigs))), threshold=0.5, seed=1))  # datasketch's own
