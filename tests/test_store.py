"""The persistent index: incremental adds, removal, queries, clustering from storage, transactions, Redis."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import dupspeech
from dupspeech import _jit, store
from dupspeech.errors import ConfigError, CorpusError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "corpus"

FLOOD = [
    "今年入汛以来，全镇降雨量比往年同期明显偏多，部分河道水位持续上涨，防汛形势十分严峻。各村各部门要清醒认识当前面临的困难和风险，"
    "切实把思想和行动统一到镇党委的部署上来。",
    "要全面排查隐患。对辖区内的山塘水库、河堤渠道、地质灾害点逐一进行拉网式检查，建立问题清单，明确整改责任人和完成时限，"
    "能立即整改的马上整改，一时整改不了的要落实临时防护措施。",
    "同志们，防汛工作责任重于泰山。我们要以对人民群众高度负责的态度，坚决克服麻痹思想和侥幸心理，扎扎实实做好各项工作，确保安全度汛。",
]
INVEST = [
    "今年以来，全县上下紧紧围绕招商引资这一中心工作，坚持项目为王，先后引进了一批投资规模大、科技含量高、带动能力强的好项目，"
    "为全县经济发展注入了新的活力。",
    "要创新招商方式。坚持以商招商、产业链招商和驻点招商相结合，围绕主导产业的上下游环节精准发力，绘制产业链招商图谱，"
    "做到引进一个、带动一批、辐射一片。",
    "要优化服务保障。各部门要树立人人都是营商环境的意识，对落地项目实行专班推进、全程代办，及时协调解决用地、用工、融资等方面的"
    "困难和问题，让企业安心投资、放心发展。",
]
SPRING = [
    "当前正值春耕备耕的关键时期，全乡各村要把农业生产摆在突出位置，早安排、早部署、早落实，确保不误农时、不失时机地把各项措施落到实处。",
    "要抓好种子化肥等农资供应，组织供销部门提前调运，加强农资市场监管，严厉打击制售假劣农资坑农害农行为，保障农民群众用上放心农资。",
    "要加强农田水利建设，抓紧修复损毁的沟渠和机耕道，搞好春灌准备，同时做好病虫害监测预报，把灾害损失降到最低限度，为全年粮食丰收打下坚实基础。",
]
SCHOOL = [
    "今天我们在这里召开全镇教育工作会议，回顾总结过去一年的教育工作，研究部署新学年的重点任务，动员全镇上下凝心聚力办好教育。",
    "新学年，各学校要把立德树人作为根本任务，深化课堂教学改革，关心关爱每一名学生的成长，努力办好人民满意的教育，不辜负群众期待。",
]


def write_corpus(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "a.txt").write_text("【篇1】在2019年全镇防汛工作会议上的讲话\n" + "\n".join(FLOOD) + "\n", encoding="utf-8")
    (root / "b.txt").write_text("【篇1】在全县招商引资工作会议上的讲话\n" + "\n".join(INVEST) + "\n", encoding="utf-8")
    (root / "c.txt").write_text("【篇1】在全镇教育工作会议上的讲话\n" + "\n".join(SCHOOL) + "\n", encoding="gb18030")
    (root / "empty.txt").write_text("", encoding="utf-8")
    return root


# the query page: a recycled flood speech (another place and year), and a spring speech that borrows two
# paragraphs of the investment speech (its lines 8-9; b.txt lines 3-4)
QUERY = ("【篇1】在2023年全乡防汛工作会议上的讲话\n" + "\n".join(FLOOD).replace("全镇", "全乡") + "\n"
         "【篇2】在全乡春季农业生产工作会议上的讲话\n"
         + "\n".join([SPRING[0], SPRING[1], INVEST[1], INVEST[2], SPRING[2]]) + "\n")


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "speeches.db")


def test_add_then_add_again_adds_nothing(corpus, db):
    with dupspeech.Index(db) as index:
        first = index.add(corpus)
        assert (first.added, first.replaced, first.unchanged, first.skipped, first.speeches) == (3, 0, 0, 1, 3)
        again = index.add(corpus)
        assert (again.added, again.replaced, again.unchanged, again.skipped, again.speeches) == (0, 0, 3, 1, 0)
        assert [f.file for f in index.files()] == ["a.txt", "b.txt", "c.txt", "empty.txt"]
        assert index.files()[3].reason == "empty file"
    with dupspeech.Index(db, create=False) as index:  # reopened: still there
        assert len(index.cluster().speeches) == 3


def test_changed_file_replaces_the_old_one(corpus, db):
    with dupspeech.Index(db) as index:
        index.add(corpus)
        (corpus / "c.txt").write_text("【篇1】在全镇防汛工作会议上的讲话\n" + "\n".join(FLOOD) + "\n", encoding="utf-8")
        report = index.add(corpus)
        assert (report.added, report.replaced, report.unchanged) == (0, 1, 2)
        result = index.cluster()
    assert result.to_json() == dupspeech.cluster(corpus).to_json()
    assert [c.speeches for c in result.clusters] == [("a.txt#1", "c.txt#1")]


def test_remove_takes_files_out(corpus, db, tmp_path):
    with dupspeech.Index(db) as index:
        index.add(corpus)
        assert index.remove(["b.txt", str(corpus / "c.txt")]) == ["b.txt", "c.txt"]  # a name, or the path read
        with pytest.raises(CorpusError, match="not in the index"):
            index.remove(["missing.txt"])
        result = index.cluster()
    rest = tmp_path / "rest"
    shutil.copytree(corpus, rest)
    (rest / "b.txt").unlink()
    (rest / "c.txt").unlink()
    assert result.to_json() == dupspeech.cluster(rest).to_json()


@pytest.mark.parametrize("source", ["examples", "generated"])
def test_cluster_from_the_index_equals_clustering_the_files(source, db, tmp_path):
    if source == "examples":
        folder = EXAMPLES
    else:
        sys.path.insert(0, str(ROOT))
        from benchmarks.generate import generate_corpus

        folder = tmp_path / "gen"
        generate_corpus(folder, seed=5, families=6)
    with dupspeech.Index(db) as index:
        index.add(folder)
        stored = index.cluster()
    assert stored.to_json() == dupspeech.cluster(folder).to_json()
    assert stored.copies and stored.clusters
    assert stored.documents[0].text == dupspeech.split(folder).documents[0].text


def test_cluster_from_the_index_added_in_parts(corpus, db, tmp_path):
    part = tmp_path / "part"
    part.mkdir()
    shutil.copy(corpus / "a.txt", part / "a.txt")
    with dupspeech.Index(db) as index:
        index.add(part)
        index.add(corpus)
        assert index.cluster(jobs=2).to_json() == dupspeech.cluster(corpus).to_json()


def test_query_finds_recycled_speech_and_borrowed_paragraphs(corpus, db, tmp_path):
    page = tmp_path / "new" / "q.txt"
    page.parent.mkdir()
    page.write_text(QUERY, encoding="utf-8")
    with dupspeech.Index(db) as index:
        index.add(corpus)
        result = index.query(page)
    assert [(p.a, p.b, p.relation) for p in result.pairs] == [("query/q.txt#1", "a.txt#1", "near_duplicate")]
    assert [s.id for s in result.speeches] == ["query/q.txt#1", "query/q.txt#2", "a.txt#1", "b.txt#1"]
    assert [f.file for f in result.files] == ["query/q.txt", "a.txt", "b.txt"]
    borrowed = [c for c in result.copies if {c.source.speech, c.target.speech} == {"query/q.txt#2", "b.txt#1"}]
    assert len(borrowed) == 1
    mine = borrowed[0].source if borrowed[0].source.speech == "query/q.txt#2" else borrowed[0].target
    theirs = borrowed[0].target if mine is borrowed[0].source else borrowed[0].source
    assert (mine.start_line, mine.end_line) == (8, 9)
    assert (theirs.start_line, theirs.end_line) == (3, 4)
    assert QUERY[mine.start_char : mine.end_char].startswith("要创新招商方式")
    assert "让企业安心投资" in QUERY[mine.start_char : mine.end_char]
    b_text = (corpus / "b.txt").read_text(encoding="utf-8")
    assert b_text[theirs.start_char : theirs.end_char].startswith("要创新招商方式")
    recycled = [c for c in result.copies if {c.source.speech, c.target.speech} == {"query/q.txt#1", "a.txt#1"}]
    assert recycled and recycled[0].direction == "source_earlier" and recycled[0].source.speech == "a.txt#1"
    # the query is not added
    with dupspeech.Index(db) as index:
        assert [f.file for f in index.files()] == ["a.txt", "b.txt", "c.txt", "empty.txt"]


def test_query_of_a_page_with_nothing_recycled(corpus, db):
    with dupspeech.Index(db) as index:
        index.add(corpus)
        result = index.query({"x.txt": "【篇1】在全乡春季农业生产工作会议上的讲话\n" + "\n".join(SPRING)})
    assert result.pairs == () and result.copies == () and [s.id for s in result.speeches] == ["query/x.txt#1"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_add_that_fails_midway_changes_nothing(corpus, db, tmp_path, monkeypatch, error):
    with dupspeech.Index(db) as index:
        index.add({"a.txt": (corpus / "a.txt").read_text(encoding="utf-8")})
        before = index.cluster().to_json()
        real = store._SQLiteStore.put_speech
        calls = []

        def failing(self, *args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise error("interrupted")
            return real(self, *args, **kwargs)

        monkeypatch.setattr(store._SQLiteStore, "put_speech", failing)
        with pytest.raises(error):
            index.add(corpus)  # a.txt is replaced (read from disk now, not given as str), then b.txt fails
        monkeypatch.setattr(store._SQLiteStore, "put_speech", real)
        assert [f.file for f in index.files()] == ["a.txt"]
        assert index.cluster().to_json() == before
        assert index.add(corpus).added == 2  # and it can be added afterwards


def test_a_killed_process_leaves_the_index_as_it_was(corpus, db):
    with dupspeech.Index(db) as index:
        index.add({"a.txt": (corpus / "a.txt").read_text(encoding="utf-8")})
        before = index.cluster().to_json()
    script = textwrap.dedent(f"""
        import os, signal
        import dupspeech
        from dupspeech import store
        real = store._SQLiteStore.put_speech
        calls = []
        def dying(self, *args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, *args, **kwargs)
        store._SQLiteStore.put_speech = dying
        dupspeech.Index({db!r}).add({str(corpus)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, check=False)
    assert proc.returncode == -9, proc.stderr
    with dupspeech.Index(db, create=False) as index:
        assert [f.file for f in index.files()] == ["a.txt"]
        assert index.cluster().to_json() == before


def test_settings_are_fixed_when_the_index_is_built(corpus, db):
    with dupspeech.Index(db, ngram=4) as index:
        index.add(corpus)
    with pytest.raises(ConfigError, match=r"built with other settings: shingle.ngram=4 \(asked 5\)"):
        dupspeech.Index(db, ngram=5)
    with pytest.raises(ConfigError, match="num_perm"):
        dupspeech.Index(db, num_perm=64)
    with dupspeech.Index(db) as index:  # no options: the stored ones
        assert index.settings.shingle.ngram == 4
        assert index.cluster().to_json() == dupspeech.cluster(corpus, ngram=4).to_json()
    with dupspeech.Index(db, threshold=0.7) as index:  # matching options may change
        assert index.settings.cluster.threshold == 0.7 and index.settings.shingle.ngram == 4
        assert index.cluster().to_json() == dupspeech.cluster(corpus, ngram=4, threshold=0.7).to_json()


def test_missing_or_foreign_index(tmp_path):
    with pytest.raises(CorpusError, match="no index at"):
        dupspeech.Index(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ConfigError, match="not a dupspeech index"):
        dupspeech.Index(junk)
    with dupspeech.Index(tmp_path / "empty.db") as index:
        with pytest.raises(CorpusError, match="holds no readable page"):
            index.cluster()


# --- Redis ---------------------------------------------------------------------------------------------------




def test_redis_round_trip(corpus, redis_url, db, tmp_path):
    page = tmp_path / "q.txt"
    page.write_text(QUERY, encoding="utf-8")
    with dupspeech.Index(redis_url) as index:
        assert index.add(corpus).added == 3
        assert index.add(corpus).unchanged == 3
        assert index.cluster().to_json() == dupspeech.cluster(corpus).to_json()
        on_redis = index.query(page)
    with dupspeech.Index(db) as local:
        local.add(corpus)
        assert on_redis.to_json() == local.query(page).to_json()
    with dupspeech.Index(redis_url, create=False) as index:  # another connection sees the same index
        assert [f.file for f in index.files()] == ["a.txt", "b.txt", "c.txt", "empty.txt"]
        with pytest.raises(ConfigError, match="built with other settings"):
            dupspeech.Index(redis_url, ngram=3)
        school = "【篇1】在全镇教育工作会议上的讲话\n" + "\n".join(SCHOOL) + "\n"
        (corpus / "a.txt").write_text(school, encoding="utf-8")
        assert index.add(corpus).replaced == 1
        assert index.remove(["b.txt"]) == ["b.txt"]
        assert index.query(page).pairs == ()
        (corpus / "b.txt").unlink()
        assert index.cluster().to_json() == dupspeech.cluster(corpus).to_json()


def test_query_counts_window_meetings_as_a_local_run_does(corpus, db, tmp_path):
    """``align.window_min_hits`` is a query-time setting: a borrowed paragraph whose windows meet fewer times
    than it asks is no candidate, in the index as in ``cluster``."""
    from dupspeech.config import AlignConfig

    page = tmp_path / "new" / "q.txt"
    page.parent.mkdir()
    page.write_text(QUERY, encoding="utf-8")
    with dupspeech.Index(db) as index:
        index.add(corpus)
    for min_hits, found in ((1, True), (1000, False)):
        with dupspeech.Index(db, align=AlignConfig(window_min_hits=min_hits)) as index:
            result = index.query(page)
        pairs = {frozenset((c.source.speech, c.target.speech)) for c in result.copies}
        assert (frozenset(("query/q.txt#2", "b.txt#1")) in pairs) is found


@pytest.mark.parametrize("crowd", [None, 2, 3])
def test_query_counts_crowded_window_buckets_as_a_local_run_does(tmp_path, monkeypatch, crowd):
    """``align.window_crowd`` is a query-time setting: a paragraph in four speeches puts them in crowded window
    buckets, where the query speech meets one of them only once. The query's window candidates (its speech LSH
    switched off here) are the pairs with the query speech that a local run of the same speeches finds."""
    from dupspeech import api
    from dupspeech.config import AlignConfig

    def page(title: str, *paras: str) -> str:
        return f"【篇1】{title}\n" + "\n".join(paras) + "\n"

    indexed = {"b.txt": page("在全县招商引资工作会议上的讲话", *INVEST),
               "d.txt": page("在全镇防汛工作会议上的讲话", FLOOD[0], INVEST[1], FLOOD[1]),
               "f.txt": page("在全乡春季农业生产工作会议上的讲话", SPRING[0], INVEST[1], SPRING[2])}
    query = page("在全镇教育工作会议上的讲话", SCHOOL[0], INVEST[1])
    cfg = AlignConfig(window_crowd=crowd)
    seen = {}
    find_pairs = api.find_pairs

    def local_windows(sets, c, *, extra, **kw):
        seen["codes"] = extra
        return find_pairs(sets, c, extra=extra, **kw)

    with monkeypatch.context() as mp:
        mp.setattr(api, "find_pairs", local_windows)
        local = dupspeech.cluster({**indexed, "q.txt": query}, align=cfg)
    ids = [s.id for s in local.speeches]
    n = len(ids)
    expected = {ids[c // n] if ids[c % n] == "q.txt#1" else ids[c % n] for c in seen["codes"].tolist()
                if "q.txt#1" in (ids[c // n], ids[c % n])}
    assert expected == ({"b.txt#1", "d.txt#1", "f.txt#1"} if crowd is None else {"d.txt#1", "f.txt#1"})

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in indexed.items():
        (corpus / name).write_text(text, encoding="utf-8")
    (tmp_path / "query").mkdir()
    (tmp_path / "query" / "q.txt").write_text(query, encoding="utf-8")
    aligned = {}
    find_copies = api.find_copies

    def copies(speeches, texts, seeds, by_name, dropped, unit, pairs, *a, **kw):  # the window pairs and verified ones
        aligned["pairs"] = {speeches[j].id for i, j in pairs if i == 0}  # the query speech is number 0
        return find_copies(speeches, texts, seeds, by_name, dropped, unit, pairs, *a, **kw)

    monkeypatch.setattr(api, "find_copies", copies)
    with dupspeech.Index(tmp_path / "speeches.db", align=cfg) as index:
        index.add(corpus)
        monkeypatch.setattr(index._store, "lookup_speech", lambda sig: set())
        result = index.query(tmp_path / "query" / "q.txt")
    assert result.pairs == ()  # nothing verified: what is aligned are the window pairs
    partners = aligned["pairs"]
    assert partners == expected


@pytest.mark.skipif(not _jit.available(), reason="numba is not installed")
def test_adding_a_big_corpus_switches_to_the_compiled_kernels_with_the_same_index(corpus, db, tmp_path, monkeypatch):
    """``Index.add`` streams, so it cannot know the corpus size in advance: once it has read a corpus's worth
    of characters (here: any), the kernels prepare the speeches; what it stores is the same."""
    monkeypatch.delenv("DUPSPEECH_JIT", raising=False)
    used = []
    real = store.api._prepare_chunk
    monkeypatch.setattr(store.api, "_prepare_chunk", lambda *a: (used.append(_jit.enabled()), real(*a))[1])
    with dupspeech.Index(tmp_path / "numpy.db") as index:
        index.add(corpus)
        expected = index.cluster(provenance=True).to_json()
    assert used and not any(used)
    used.clear()
    monkeypatch.setattr(_jit, "MIN_CHARS", 1)
    with dupspeech.Index(db) as index:
        index.add(corpus)
        assert index.cluster(provenance=True).to_json() == expected
    assert used and all(used)


def test_band_rows_written_in_sorted_batches_give_the_same_index(corpus, db, monkeypatch):
    """Band rows are held back and written sorted; with tiny batches (flushed many times inside one add, and
    before a changed file's rows are deleted) the index answers exactly as with one batch."""
    with dupspeech.Index(db) as index:
        index.add(corpus)
        expected = index.cluster().to_json()
    monkeypatch.setattr(store._SQLiteStore, "FLUSH_ROWS", 5)
    other = db + ".small-batches"
    with dupspeech.Index(other) as index:
        index.add(corpus)
        (corpus / "a.txt").write_text((corpus / "a.txt").read_text(encoding="utf-8") + "\n补充一句。", encoding="utf-8")
        assert index.add(corpus).replaced == 1
        (corpus / "a.txt").write_text((corpus / "a.txt").read_text(encoding="utf-8")[: -len("\n补充一句。")],
                                      encoding="utf-8")
        assert index.add(corpus).replaced == 1
        assert index.cluster().to_json() == expected
        counts = [index._store.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("bands", "windows")]
    with dupspeech.Index(db) as index:
        assert counts == [index._store.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                          for t in ("bands", "windows")]
