from __future__ import annotations

import csv
import sys

import pytest

import dupspeech
from dupspeech import tables
from dupspeech.errors import OptionalDependencyError

FLOOD = [
    "今年入汛以来，全镇降雨量比往年同期明显偏多，部分河道水位持续上涨，防汛形势十分严峻。各村各部门要清醒认识当前面临的困难和风险。",
    "要全面排查隐患。对辖区内的山塘水库、河堤渠道、地质灾害点逐一进行拉网式检查，建立问题清单，明确整改责任人和完成时限。",
    "要备足物资队伍。镇里统一调配编织袋、救生衣、抽水泵等防汛物资，各村组建应急抢险队伍，实行二十四小时值班值守。",
]
OTHER = "春季是植树造林的黄金时节。各村要抓住有利天气，组织党员干部和群众义务植树，重点做好道路两旁和荒山荒坡的绿化。"


def corpus() -> dict[str, str]:
    return {
        "甲镇.txt": "【篇1】甲镇防汛工作会议讲话\n" + "\n".join(FLOOD) + "\n",
        "乙镇.txt": "【篇1】乙镇防汛工作会议讲话\n" + "\n".join(FLOOD).replace("全镇", "全乡") + "\n",
        "植树.txt": "【篇1】植树造林动员讲话\n" + OTHER + "\n",
    }


@pytest.fixture(scope="module")
def result():
    return dupspeech.cluster(corpus())


def read_csv(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 BOM to open Chinese text correctly"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        return reader.fieldnames, list(reader)


def test_csv_files_have_bom_columns_and_chinese(result, tmp_path):
    paths = tables.write_tables(result, tmp_path)
    assert sorted(p.name for p in paths) == ["clusters.csv", "copies.csv", "pairs.csv", "speeches.csv"]
    for name, columns in tables.COLUMNS.items():
        header, rows = read_csv(tmp_path / f"{name}.csv")
        assert tuple(header) == columns
    _, speeches = read_csv(tmp_path / "speeches.csv")
    assert [r["id"] for r in speeches] == [s.id for s in result.speeches]
    assert {r["title"] for r in speeches} == {"甲镇防汛工作会议讲话", "乙镇防汛工作会议讲话", "植树造林动员讲话"}
    lone = next(r for r in speeches if r["file"] == "植树.txt")
    assert lone["cluster"] == "" and lone["contained"] == "false"
    _, clusters = read_csv(tmp_path / "clusters.csv")
    assert clusters == [{"id": "0", "size": "2", "speeches": "甲镇.txt#1; 乙镇.txt#1", "contained": "",
                         "titles": "甲镇防汛工作会议讲话; 乙镇防汛工作会议讲话", "files": "甲镇.txt; 乙镇.txt",
                         "chars": clusters[0]["chars"]}]
    _, pairs = read_csv(tmp_path / "pairs.csv")
    assert len(pairs) == 1 and pairs[0]["cluster"] == "0"


def test_copy_rows_carry_the_evidence(result):
    rows = tables.copy_rows(result)
    assert len(rows) == len(result.copies) > 0
    docs = {d.name: d for d in result.documents}
    for n, (row, c) in enumerate(zip(rows, result.copies)):
        assert row["n"] == n
        assert row["source_text"] == docs[row["source_file"]].text[c.source.start_char : c.source.end_char]
        assert row["target_text"] == docs[row["target_file"]].text[c.target.start_char : c.target.end_char]
        assert "排查隐患" in row["source_text"]


def test_rows_without_documents_leave_text_empty(result):
    bare = dupspeech.Result(result.files, result.speeches, result.pairs, result.clusters, result.copies)
    assert all(r["source_text"] == "" for r in tables.copy_rows(bare))


def test_to_pandas_frames(result):
    pd = pytest.importorskip("pandas")
    frames = result.to_pandas()
    assert sorted(frames) == ["clusters", "copies", "pairs", "speeches"]
    for name, frame in frames.items():
        assert isinstance(frame, pd.DataFrame)
        assert tuple(frame.columns) == tables.COLUMNS[name]
    speeches = frames["speeches"]
    assert len(speeches) == 3
    assert str(speeches["cluster"].dtype) == "Int64"
    assert speeches.set_index("file").loc["植树.txt", "cluster"] is pd.NA
    assert frames["clusters"].loc[0, "size"] == 2


def test_to_pandas_says_how_to_install(result, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(OptionalDependencyError, match=r"pip install 'dupspeech\[pandas\]'"):
        result.to_pandas()


def test_csv_cells_that_excel_would_run_are_quoted(tmp_path):
    rows = [{"a": "=HYPERLINK(\"http://x\")", "b": "-1+2", "c": "@SUM(A1)", "d": "同志们：", "e": True, "f": 3}]
    path = tables.write_csv(rows, ("a", "b", "c", "d", "e", "f"), tmp_path / "t.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row == {"a": "'=HYPERLINK(\"http://x\")", "b": "'-1+2", "c": "'@SUM(A1)", "d": "同志们：", "e": "true", "f": "3"}
