"""The command line of the persistent index (index add/remove/list, query, cluster --index) and --engine dask."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dupspeech.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "corpus"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "speeches.db"


def test_index_add_query_cluster_remove(db, tmp_path):
    res = invoke("index", "add", EXAMPLES, "--index", db)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("added 4, replaced 0, unchanged 0, skipped 1 (12 speeches)")
    assert "unchanged 4" in invoke("index", "add", EXAMPLES, "--index", db).stdout

    listed = invoke("index", "list", "--index", db, "--json")
    assert [f["file"] for f in json.loads(listed.stdout)["files"]][-1] == "05_empty.txt"
    assert "05_empty.txt" in invoke("index", "list", "--index", db).stdout

    stored = invoke("cluster", "--index", db, "--json")
    assert stored.exit_code == 0, stored.output
    assert stored.stdout == invoke("cluster", EXAMPLES, "--json").stdout

    page = EXAMPLES / "03_fanwen_gb18030.txt"
    res = invoke("query", page, "--index", db, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert ["query/03_fanwen_gb18030.txt#1", "01_anquan_fanwen.txt#1", "near_duplicate"] in [
        [p["a"], p["b"], p["relation"]] for p in data["pairs"]]
    assert any(c["source"]["speech"] == "01_anquan_fanwen.txt#1" and c["target"]["speech"].startswith("query/")
               for c in data["copies"])
    human = invoke("query", page, "--index", db)
    assert "query/03_fanwen_gb18030.txt#1" in human.stdout and "01_anquan_fanwen.txt#1" in human.stdout

    res = invoke("index", "remove", "01_anquan_fanwen.txt", "--index", db)
    assert res.exit_code == 0 and "removed 1 file" in res.stdout
    res = invoke("query", page, "--index", db, "--json")
    assert "01_anquan_fanwen.txt#1" not in res.stdout


def test_usage_errors_exit_2_and_missing_things_exit_1(db):
    assert invoke("cluster").exit_code == 2
    res = invoke("cluster", EXAMPLES, "--index", db)
    assert res.exit_code == 2 and "not both" in res.output
    assert invoke("cluster", EXAMPLES, "--scheduler", "tcp://127.0.0.1:8786").exit_code == 2
    assert invoke("index", "add", EXAMPLES).exit_code == 2  # --index is required
    res = invoke("query", EXAMPLES / "01_anquan_fanwen.txt", "--index", db)
    assert res.exit_code == 1 and "no index at" in res.output
    assert invoke("cluster", "--index", db).exit_code == 1
    assert invoke("index", "add", EXAMPLES, "--index", db, "--ngram", "4").exit_code == 0
    res = invoke("cluster", "--index", db, "--ngram", "5")
    assert res.exit_code == 2 and "built with other settings" in res.output
    assert invoke("cluster", "--index", db, "--engine", "dask").exit_code == 2
    assert invoke("cluster", "--index", db, "--threshold", "0.7", "-q").exit_code == 0
    res = invoke("index", "remove", "nothing.txt", "--index", db)
    assert res.exit_code == 1 and "not in the index" in res.output


def test_cluster_on_dask_equals_local(tmp_path):
    spill = tmp_path / "spill"
    res = invoke("cluster", EXAMPLES, "--engine", "dask", "--workers", "2", "--spill-dir", spill, "--json")
    assert res.exit_code == 0, res.output
    assert res.stdout == invoke("cluster", EXAMPLES, "--json").stdout
    assert spill.is_dir() and list(spill.iterdir()) == []  # the run's files are removed
    res = invoke("cluster", EXAMPLES, "--spill-dir", spill)
    assert res.exit_code == 2 and "options of --engine dask" in res.output
    res = invoke("cluster", EXAMPLES, "--engine", "dask", "--spill-dir", EXAMPLES / "01_anquan_fanwen.txt")
    assert res.exit_code == 2 and "--spill-dir" in res.output


def test_index_on_redis(redis_url):
    assert invoke("index", "add", EXAMPLES, "--index", redis_url).exit_code == 0
    assert invoke("cluster", "--index", redis_url, "--json").stdout == invoke("cluster", EXAMPLES, "--json").stdout
