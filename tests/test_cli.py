from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dupspeech.cli import main

PAGE = (
    "【篇1】在全县安全生产会议上的讲话\n同志们：\n今天我们召开全县安全生产工作会议，主要任务是贯彻落实上级部署，研究安排下一阶段工作。"
    "安全生产事关人民群众生命财产安全，各级各部门要把安全生产摆在更加突出的位置，坚决克服麻痹思想和侥幸心理。\n"
)


def make_corpus(tmp_path):
    (tmp_path / "a.txt").write_text(PAGE, encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(PAGE.replace("全县", "全市").encode("gb18030"))
    (tmp_path / "c.bin").write_bytes(b"\x00\x01")
    return tmp_path


def test_cluster_summary(tmp_path):
    res = CliRunner().invoke(main, ["cluster", str(make_corpus(tmp_path))])
    assert res.exit_code == 0, res.output
    assert "3 files: 2 read, 1 skipped" in res.output
    assert "c.bin" in res.output
    assert "1 recycled families" in res.output
    assert "a.txt#1" in res.output and "b.txt#1" in res.output


def test_cluster_json_is_clean_and_deterministic(tmp_path):
    corpus = str(make_corpus(tmp_path))
    one = CliRunner().invoke(main, ["cluster", corpus, "--json", "--seed", "9"])
    two = CliRunner().invoke(main, ["cluster", corpus, "--json", "--seed", "9"])
    assert one.exit_code == 0
    assert one.stdout == two.stdout
    data = json.loads(one.stdout)
    assert data["clusters"][0]["speeches"] == ["a.txt#1", "b.txt#1"]
    assert [f["encoding"] for f in data["files"]] == ["utf-8", "gb18030", None]
    assert data["settings"]["minhash.seed"] == 9


def test_options_reach_the_library(tmp_path):
    corpus = str(make_corpus(tmp_path))
    res = CliRunner().invoke(main, ["cluster", corpus, "--json", "--shingle", "word", "--ngram", "2",
                                    "--num-perm", "64", "--threshold", "0.9", "--containment", "0.7"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)["settings"]
    assert (s["shingle.mode"], s["shingle.ngram"], s["minhash.num_perm"]) == ("word", 2, 64)
    assert (s["cluster.threshold"], s["cluster.containment"]) == (0.9, 0.7)


@pytest.mark.parametrize("option,key,word,default,bad", [
    ("--bucket-neighbours", "cluster.bucket_neighbours", "all", 50, ("0", "many")),
    ("--window-crowd", "align.window_crowd", "off", 10, ("1", "none")),
])
def test_number_or_word_options_on_cluster_an_index_and_dedup(tmp_path, option, key, word, default, bad):
    """``--bucket-neighbours`` and ``--window-crowd``: a number, or the word that stands for None in the library,
    reaches the settings of ``cluster``, of ``cluster --index`` (for that run only) and of ``dedup``; anything
    else is a usage error naming the option."""
    corpus = str(make_corpus(tmp_path))

    def setting(*args):
        res = CliRunner().invoke(main, ["cluster", *args, "--json"])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)["settings"][key]

    assert setting(corpus) == default
    assert setting(corpus, option, word) is None
    assert setting(corpus, option, "7") == 7
    db = str(tmp_path / "speeches.db")
    assert CliRunner().invoke(main, ["index", "add", corpus, "--index", db]).exit_code == 0
    assert setting("--index", db, option, "3") == 3
    assert setting("--index", db) == default
    name = key.split(".")[1]
    for value in bad:
        res = CliRunner().invoke(main, ["cluster", corpus, option, value])
        assert res.exit_code == 2 and (option in res.output or name in res.output), res.output
    clean = str(tmp_path.parent / f"{tmp_path.name}-clean")  # outside the corpus
    res = CliRunner().invoke(main, ["dedup", corpus, "--out", clean, option, "x"])
    assert res.exit_code == 2 and option in res.output
    res = CliRunner().invoke(main, ["dedup", corpus, "--out", clean, option, word, "--json"])
    assert res.exit_code == 0, res.output


def test_bad_usage_exits_2(tmp_path):
    corpus = str(make_corpus(tmp_path))
    assert CliRunner().invoke(main, ["cluster", corpus, "--ngram", "0"]).exit_code == 2
    assert CliRunner().invoke(main, ["cluster", corpus, "--threshold", "2"]).exit_code == 2
    assert CliRunner().invoke(main, ["cluster", str(tmp_path / "missing")]).exit_code == 2
    assert CliRunner().invoke(main, ["cluster"]).exit_code == 2


def test_unreadable_corpus_exits_1(tmp_path):
    (tmp_path / "x.txt").write_bytes(b"")
    res = CliRunner().invoke(main, ["cluster", str(tmp_path)])
    assert res.exit_code == 1
    assert "could be read" in res.output
    empty = tmp_path / "empty"
    empty.mkdir()
    res = CliRunner().invoke(main, ["cluster", str(empty)])
    assert res.exit_code == 1 and "no .txt" in res.output


def test_split_command(tmp_path):
    res = CliRunner().invoke(main, ["split", str(make_corpus(tmp_path))])
    assert res.exit_code == 0
    assert "a.txt#1" in res.output and "【篇1】" in res.output


def test_progress_flag_does_not_pollute_stdout(tmp_path):
    res = CliRunner().invoke(main, ["cluster", str(make_corpus(tmp_path)), "--json", "--progress"])
    assert res.exit_code == 0
    json.loads(res.stdout)


def test_tokenizer_option_reaches_the_library_and_an_index_keeps_its_own(tmp_path):
    """--tokenizer picks the word segmenter (recorded in the settings); the tokens are the same, so is the
    result. An index built with one segmenter refuses another."""
    pytest.importorskip("rjieba")
    corpus = str(make_corpus(tmp_path))
    out = {}
    for name in ("jieba", "rjieba"):
        res = CliRunner().invoke(main, ["cluster", corpus, "--json", "--shingle", "word", "--tokenizer", name])
        assert res.exit_code == 0, res.output
        out[name] = json.loads(res.stdout)
        assert out[name]["settings"]["shingle.tokenizer"] == name
    assert out["jieba"]["clusters"] == out["rjieba"]["clusters"] and out["jieba"]["pairs"] == out["rjieba"]["pairs"]
    db = str(tmp_path / "w.db")
    res = CliRunner().invoke(main, ["index", "add", corpus, "--index", db, "--shingle", "word", "--tokenizer", "jieba"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["index", "add", corpus, "--index", db, "--tokenizer", "rjieba"])
    assert res.exit_code == 2 and "shingle.tokenizer" in res.output
