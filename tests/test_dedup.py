from __future__ import annotations

import csv
import hashlib
import json
import os

import pytest

import dupspeech
from dupspeech.dedup import dedup
from dupspeech.errors import ConfigError

FLOOD = [
    "今年入汛以来，全镇降雨量比往年同期明显偏多，部分河道水位持续上涨，防汛形势十分严峻。各村各部门要清醒认识当前面临的困难和风险，"
    "切实把思想和行动统一到镇党委的部署上来。",
    "要全面排查隐患。对辖区内的山塘水库、河堤渠道、地质灾害点逐一进行拉网式检查，建立问题清单，明确整改责任人和完成时限，"
    "能立即整改的马上整改，一时整改不了的要落实临时防护措施。",
    "要备足物资队伍。镇里统一调配编织袋、救生衣、抽水泵等防汛物资，各村组建不少于二十人的应急抢险队伍，实行二十四小时值班值守，"
    "确保险情发生后能够拉得出、冲得上、打得赢。",
    "同志们，防汛工作责任重于泰山。我们要以对人民群众高度负责的态度，坚决克服麻痹思想和侥幸心理，扎扎实实做好各项工作，确保安全度汛。",
]
EXTRA = "最后，我再强调一点纪律要求。汛期内各级干部原则上不得请假外出，确需请假的必须报镇主要领导批准，对因工作不力造成严重后果的，将依规依纪严肃追究责任。"
SCHOOL = [
    "今天我们在这里召开全镇教育工作会议，回顾总结过去一年的教育工作，研究部署新学年的重点任务。",
    "过去一年，全镇教育系统上下齐心，校舍改造顺利完工，教师队伍结构不断优化，中考成绩稳步提升，群众对教育的满意度明显提高。",
    FLOOD[1],
    "新学年，各学校要把立德树人作为根本任务，深化课堂教学改革，关心关爱每一名学生的成长，努力办好人民满意的教育。",
]
TREES = [
    "春季是植树造林的黄金时节。各村要抓住有利天气，组织党员干部和群众义务植树，重点做好房前屋后、道路两旁和荒山荒坡的绿化。",
    "林业站要做好苗木调运和技术指导，严把苗木质量关，坚持适地适树，提高造林成活率，同时落实管护责任，防止边栽边毁。",
]


def page(title: str, paragraphs: list[str]) -> str:
    return "【篇1】" + title + "\n" + "\n".join(paragraphs) + "\n"


def make_corpus(root):
    """a (2021), b (2019, the earliest), c (undated, the longest) are one family; d borrows a paragraph."""
    root.mkdir()
    (root / "a_2021.txt").write_text(page("在2021年全镇防汛工作会议上的讲话", FLOOD), encoding="utf-8")
    (root / "b_2019.txt").write_text(page("在2019年全镇防汛工作会议上的讲话", [p.replace("镇党委", "镇委") for p in FLOOD]),
                                     encoding="utf-8")
    (root / "c.txt").write_text(page("防汛工作会议讲话", FLOOD + [EXTRA]), encoding="utf-8")
    sub = root / "sub"
    sub.mkdir()
    (sub / "d.txt").write_bytes(("网站首页 > 讲话稿\n" + page("在全镇教育工作会议上的讲话", SCHOOL)).encode("gb18030"))
    (sub / "e.txt").write_text(page("关于做好春季植树造林工作的讲话", TREES), encoding="utf-8")
    (root / "scan.pdf").write_bytes(b"%PDF-1.4\x00\x01")
    return root


def tree_hash(root) -> str:
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in sorted(os.walk(root)):
        dirnames.sort()
        h.update(dirpath.encode())
        for name in sorted(filenames):
            h.update(name.encode())
            with open(os.path.join(dirpath, name), "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("dedup") / "in")


@pytest.fixture(scope="module")
def result(corpus):
    r = dupspeech.cluster(corpus)
    assert [c.speeches for c in r.clusters] == [("a_2021.txt#1", "b_2019.txt#1", "c.txt#1")]
    return r


@pytest.mark.parametrize(("keep", "kept", "decided"), [
    ("first", "a_2021.txt#1", "first: first in corpus (path) order"),
    ("earliest", "b_2019.txt#1", "earliest: 2019 (title) before 2021 (title); 1 member without a date"),
    ("longest", "c.txt#1", "longest:"),
])
def test_keep_rules(result, tmp_path, keep, kept, decided):
    m = dedup(result, tmp_path / "out", keep=keep)
    (family,) = m.families
    assert family.kept == kept and family.rule.startswith(decided)
    assert set(family.removed) == {"a_2021.txt#1", "b_2019.txt#1", "c.txt#1"} - {kept}
    for sid in family.removed:
        (removal,) = [r for r in m.removals if r.speech == sid]
        assert removal.what == "speech" and removal.kept == kept and removal.rule == family.rule
        assert removal.reason == "duplicate in family 0"
        assert not (tmp_path / "out" / sid.split("#")[0]).exists()
    kept_file = kept.split("#")[0]
    source = {d.name: d.path for d in result.documents}[kept_file]
    assert (tmp_path / "out" / kept_file).read_bytes() == open(source, "rb").read()  # copied byte for byte


def test_earliest_without_dates_falls_back_to_first_path(tmp_path):
    texts = {"y.txt": page("防汛工作会议讲话", FLOOD), "x.txt": page("防汛工作会议上的讲话", FLOOD)}
    r = dupspeech.cluster(texts)
    m = dedup(r, tmp_path / "out", keep="earliest")
    assert m.families[0].kept == "y.txt#1"  # texts given from Python keep their order
    assert m.families[0].rule == "earliest: no member has a date; first path"


def test_manifest_accounts_for_every_file_and_input_is_untouched(corpus, result, tmp_path):
    before = tree_hash(corpus)
    out = tmp_path / "clean"
    m = dedup(result, out, keep="first")
    assert tree_hash(corpus) == before
    assert [f.file for f in m.files] == [f.file for f in result.files]
    status = {f.file: (f.status, f.written) for f in m.files}
    assert status == {
        "a_2021.txt": ("kept", "a_2021.txt"),
        "b_2019.txt": ("removed", None),
        "c.txt": ("removed", None),
        "scan.pdf": ("skipped", None),
        "sub/d.txt": ("kept", "sub/d.txt"),
        "sub/e.txt": ("kept", "sub/e.txt"),
    }
    assert "not read" in next(f.reason for f in m.files if f.file == "scan.pdf")
    written = sorted(str(p.relative_to(out)).replace(os.sep, "/") for p in out.rglob("*") if p.is_file())
    assert written == ["a_2021.txt", "manifest.json", "removals.csv", "sub/d.txt", "sub/e.txt"]
    assert (out / "sub/d.txt").read_bytes() == (corpus / "sub/d.txt").read_bytes()
    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert data == json.loads(m.to_json())
    assert [f["file"] for f in data["files"]] == [f.file for f in result.files]
    raw = (out / "removals.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert sorted(r["speech"] for r in rows) == ["b_2019.txt#1", "c.txt#1"]


def test_drop_copied_cuts_the_borrowed_paragraph_once(corpus, result, tmp_path):
    before = tree_hash(corpus)
    out = tmp_path / "clean"
    m = dedup(result, out, keep="earliest", drop_copied=True)
    assert tree_hash(corpus) == before
    d = next(f for f in m.files if f.file == "sub/d.txt")
    assert (d.status, d.paragraphs_removed, d.written_encoding) == ("rewritten", 1, "gb18030")
    (cut,) = [r for r in m.removals if r.what == "paragraph"]
    assert cut.file == "sub/d.txt" and cut.kept == "b_2019.txt#1" and "b_2019.txt#1" in cut.reason
    text = (out / "sub/d.txt").read_bytes().decode("gb18030")
    assert "要全面排查隐患" not in text
    assert "网站首页 > 讲话稿" in text and SCHOOL[1] in text and SCHOOL[3] in text
    again = dupspeech.split(out / "sub/d.txt")
    assert len(again.speeches) == 1 and again.speeches[0].title == "在全镇教育工作会议上的讲话"
    # the kept speech keeps the passage
    assert "要全面排查隐患" in (out / "b_2019.txt").read_text(encoding="utf-8")


def test_refuses_out_inside_or_around_the_input(corpus, result, tmp_path):
    before = tree_hash(corpus)
    with pytest.raises(ConfigError, match="inside the input folder"):
        dedup(result, corpus / "clean")
    with pytest.raises(ConfigError, match="inside the input folder"):
        dedup(result, corpus)
    with pytest.raises(ConfigError, match="contains the input folder"):
        dedup(result, corpus.parent, force=True)
    assert tree_hash(corpus) == before
    link = tmp_path / "link"
    link.symlink_to(corpus, target_is_directory=True)
    with pytest.raises(ConfigError, match="inside the input folder"):
        dedup(result, link / "clean")
    assert tree_hash(corpus) == before


def test_refuses_a_non_empty_out_unless_forced(result, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("旧文件", encoding="utf-8")
    with pytest.raises(ConfigError, match="not empty.*--force"):
        dedup(result, out)
    m = dedup(result, out, force=True)
    assert (out / "old.txt").read_text(encoding="utf-8") == "旧文件"
    assert m.count("kept") == 3


def test_bad_options_and_results_without_text(result, tmp_path):
    with pytest.raises(ConfigError, match="keep must be one of"):
        dedup(result, tmp_path / "a", keep="newest")  # type: ignore[arg-type]
    bare = dupspeech.Result(result.files, result.speeches, result.pairs, result.clusters)
    with pytest.raises(ConfigError, match="holds no documents"):
        dedup(bare, tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_short_stock_paragraphs_stay_when_their_neighbours_are_cut(tmp_path):
    thanks = "谢谢大家！"
    texts = {
        "x.txt": page("全镇防汛工作会议讲话", [FLOOD[0], FLOOD[2], thanks]),
        "y.txt": page("在全镇教育工作会议上的讲话", [SCHOOL[0], SCHOOL[1], FLOOD[2], thanks]),
    }
    r = dupspeech.cluster(texts)
    assert not r.clusters and r.copies
    m = dedup(r, tmp_path / "out", keep="first", drop_copied=True)
    (cut,) = m.removals
    assert (cut.file, cut.what, cut.kept) == ("y.txt", "paragraph", "x.txt#1")
    text = (tmp_path / "out" / "y.txt").read_text(encoding="utf-8")
    assert "要备足物资队伍" not in text and text.rstrip().endswith(thanks) and SCHOOL[1] in text
