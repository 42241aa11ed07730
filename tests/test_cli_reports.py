from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dupspeech.cli import OUT_FILES, main

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cli.md"

FLOOD = [
    "今年入汛以来，全镇降雨量比往年同期明显偏多，部分河道水位持续上涨，防汛形势十分严峻。各村各部门要清醒认识当前面临的困难和风险，"
    "切实把思想和行动统一到镇党委的部署上来。",
    "要全面排查隐患。对辖区内的山塘水库、河堤渠道、地质灾害点逐一进行拉网式检查，建立问题清单，明确整改责任人和完成时限，"
    "能立即整改的马上整改，一时整改不了的要落实临时防护措施。",
    "同志们，防汛工作责任重于泰山。我们要以对人民群众高度负责的态度，坚决克服麻痹思想和侥幸心理，扎扎实实做好各项工作，确保安全度汛。",
]
SCHOOL = [
    "今天我们在这里召开全镇教育工作会议，回顾总结过去一年的教育工作，研究部署新学年的重点任务。",
    FLOOD[1],
    "新学年，各学校要把立德树人作为根本任务，深化课堂教学改革，关心关爱每一名学生的成长，努力办好人民满意的教育。",
]


def make_corpus(root: Path) -> Path:
    root.mkdir()
    (root / "a.txt").write_text("【篇1】在2019年全镇防汛工作会议上的讲话 [/]\n" + "\n".join(FLOOD) + "\n"
                                "【篇2】在全镇教育工作会议上的讲话\n" + "\n".join(SCHOOL) + "\n", encoding="utf-8")
    (root / "b.txt").write_text("网站首页 > 范文 > 讲话稿\n【篇1】在2021年全乡防汛工作会议上的讲话\n"
                                + "\n".join(FLOOD).replace("全镇", "全乡") + "\n", encoding="utf-8")
    (root / "c.bin").write_bytes(b"\x00\x01")
    return root


@pytest.fixture
def corpus(tmp_path) -> Path:
    return make_corpus(tmp_path / "in")


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cluster_out_writes_all_six_files(corpus, tmp_path):
    out = tmp_path / "report"
    res = invoke("cluster", corpus, "--out", out)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted(OUT_FILES)
    assert "wrote 6 files" in res.stdout
    for name in ("speeches.csv", "clusters.csv", "pairs.csv", "copies.csv"):
        assert (out / name).read_bytes().startswith(b"\xef\xbb\xbf"), name
    assert "在2021年全乡防汛工作会议上的讲话" in (out / "speeches.csv").read_text(encoding="utf-8-sig")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="s-0"' in page and 'href="#t-0"' in page
    data = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert data["clusters"][0]["speeches"] == ["a.txt#1", "b.txt#1"]


def test_json_with_out_keeps_stdout_pure_json(corpus, tmp_path):
    out = tmp_path / "report"
    res = invoke("cluster", corpus, "--json", "--out", out)
    assert res.exit_code == 0
    assert res.stdout == (out / "result.json").read_text(encoding="utf-8")
    assert "wrote 6 files" in res.stderr


def test_quiet_prints_nothing_on_stdout(corpus, tmp_path):
    res = invoke("cluster", corpus, "--quiet", "--progress", "--out", tmp_path / "r")
    assert res.exit_code == 0
    assert res.stdout == "" and res.stderr == ""
    assert (tmp_path / "r" / "report.html").is_file()
    res = invoke("dedup", corpus, "--out", tmp_path / "clean", "-q")
    assert res.exit_code == 0 and res.stdout == ""
    assert (tmp_path / "clean" / "manifest.json").is_file()


def test_summary_survives_markup_in_titles(corpus):
    res = invoke("cluster", corpus)
    assert res.exit_code == 0, res.output
    assert "[/]" in res.stdout and "1 recycled families" in res.stdout


def test_split_shows_dropped_lines_with_their_text(corpus):
    res = invoke("split", corpus, "--excerpt", "60")
    assert res.exit_code == 0, res.output
    assert "dropped: preamble" in res.stdout and "网站首页 > 范文 > 讲话稿" in res.stdout
    assert "a.txt#2" in res.stdout and "【篇2】" in res.stdout


def test_compare_two_files_and_two_speeches(corpus, tmp_path):
    res = invoke("compare", corpus / "a.txt", corpus / "b.txt")
    assert res.exit_code == 0, res.output
    assert "a.txt#1" in res.stdout and "b.txt#1" in res.stdout and "similarity" in res.stdout
    assert "a.txt#2" in res.stdout  # the education speech borrows a paragraph: it shows too
    res = invoke("compare", f"{corpus / 'a.txt'}#2", f"{corpus / 'b.txt'}#1", "--json", "--html", tmp_path / "c.html")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {c["source"]["speech"] for c in data["copies"]} | {c["target"]["speech"] for c in data["copies"]} == {
        "a.txt#2", "b.txt#1"}
    assert "<mark" in (tmp_path / "c.html").read_text(encoding="utf-8")


def test_compare_bad_arguments_exit_2(corpus):
    assert invoke("compare", corpus / "a.txt", corpus / "missing.txt").exit_code == 2
    assert invoke("compare", corpus / "a.txt", "同志们好").exit_code == 2
    res = invoke("compare", f"{corpus / 'a.txt'}#9", corpus / "b.txt")
    assert res.exit_code == 1 and "no #9" in res.output


def test_dedup_command(corpus, tmp_path):
    out = tmp_path / "clean"
    res = invoke("dedup", corpus, "--out", out, "--keep", "earliest", "--drop-copied")
    assert res.exit_code == 0, res.output
    assert "3 files: 0 kept, 1 rewritten, 1 removed, 1 skipped" in res.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [f["file"] for f in manifest["files"]] == ["a.txt", "b.txt", "c.bin"]
    assert manifest["families"][0]["kept"] == "a.txt#1"
    assert "要全面排查隐患" not in (out / "a.txt").read_text(encoding="utf-8").split("【篇2】")[1]
    # refusals are usage errors, and nothing is written
    assert invoke("dedup", corpus, "--out", out).exit_code == 2  # not empty
    res = invoke("dedup", corpus, "--out", corpus / "clean")
    assert res.exit_code == 2 and "inside the input folder" in res.output
    assert not (corpus / "clean").exists()
    res = invoke("dedup", corpus, "--out", out, "--force", "--json", "--keep", "first")
    assert res.exit_code == 0 and json.loads(res.stdout)["keep"] == "first"


def _commands() -> dict[str, click.Command]:
    return dict(main.commands)


def _option_names(command: click.Command) -> list[str]:
    names = []
    for p in command.params:
        if isinstance(p, click.Option):
            names.extend(n for n in (*p.opts, *p.secondary_opts) if n.startswith("--"))
    return names


def test_cli_reference_documents_every_command_and_option():
    doc = DOCS.read_text(encoding="utf-8")
    top = invoke("--help").stdout
    for name, command in _commands().items():
        assert re.search(rf"^\s+{name}\b", top, re.M), f"{name} missing from dupspeech --help"
        assert f"dupspeech {name}" in doc, f"docs/cli.md does not document the command {name!r}"
        help_text = invoke(name, "--help").stdout
        for option in _option_names(command):
            assert option in help_text
            assert re.search(rf"`{re.escape(option)}\b", doc), f"docs/cli.md does not document {name} {option}"
    for option in ("--version", "--help"):
        assert option in top and option in doc
