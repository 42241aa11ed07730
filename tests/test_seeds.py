"""What a careful reader found in the five real pages of ../shared/corpus/seeds, encoded as tests.

Read line by line (see docs/seeds.md for the reading): 27 speeches in 5 pages, 4 recycled families.
"""

from __future__ import annotations

import pytest

import dupspeech
from dupspeech.models import Document
from dupspeech.segment import split_page

P0, P1, P2, P3, P4 = (
    "000_8ee138e640c4cff5.txt",
    "001_0971c2d1573ab3b5.txt",
    "002_d5b0130c5d5dfb0b.txt",
    "003_3a51c751c6bb87b6.txt",
    "004_d1ad4b9a7ddf73f7.txt",
)

# (first line, last line, marker) of every speech, as read by hand
EXPECTED = {
    P0: [(2, 10, "第一篇"), (11, 27, None), (28, 49, "第三篇"), (50, 72, None), (73, 88, "第五篇")],
    P1: [(9, 27, "【篇1】"), (29, 45, "【篇2】"), (47, 91, "【篇3】"), (93, 111, "【篇4】"), (113, 139, "【篇5】"),
         (141, 151, "【篇6】"), (153, 203, "【篇7】"), (205, 223, "【篇8】"), (225, 235, "【篇9】")],
    P2: [(2, 18, None), (19, 28, None), (29, 53, None), (54, 66, None)],
    P3: [(13, 55, "篇一"), (57, 113, "篇二"), (115, 153, "篇三"), (155, 175, "篇四")],
    P4: [(3, 30, "【篇1】"), (31, 36, "【篇2】"), (37, 48, "【篇3】"), (49, 92, "【篇4】"), (93, 110, "【篇5】")],
}


def _split(seeds_dir, name):
    path = seeds_dir / name
    return split_page(Document(name, path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_speech_boundaries(seeds_dir, name):
    speeches, _ = _split(seeds_dir, name)
    assert [(s.span.start_line, s.span.end_line, s.marker) for s in speeches] == EXPECTED[name]


def test_bare_titles_of_page_without_markers(seeds_dir):
    speeches, _ = _split(seeds_dir, P2)
    assert all(s.title.endswith("讲话提纲") for s in speeches)


def test_title_under_marker_and_lost_markers(seeds_dir):
    speeches, _ = _split(seeds_dir, P0)
    assert speeches[1].title == "在2025年抓好秋冬疫情防控工作部署会上的讲话"
    assert speeches[2].title == "在校园疫情防控工作部署会上的讲话"  # ``第三篇：T`` then ``T`` again
    assert [p.kind for p in speeches[2].paragraphs[:2]] == ["title", "title"]


@pytest.mark.parametrize(
    "name, snippet_line, chrome_lines, footer_from",
    [
        (P0, 1, [], None),
        (P1, None, [1, 3, 5, 7], 237),
        (P2, 1, [], None),
        (P3, None, [3, 5, 7, 9, 11], 177),
        (P4, 1, [2], None),
    ],
)
def test_snippet_chrome_footer(seeds_dir, name, snippet_line, chrome_lines, footer_from):
    _, dropped = _split(seeds_dir, name)
    by_reason: dict[str, list[int]] = {}
    for d in dropped:
        by_reason.setdefault(d.reason, []).append(d.span.start_line)
    assert by_reason.get("snippet", []) == ([snippet_line] if snippet_line else [])
    if footer_from:
        assert min(by_reason["footer"]) == footer_from
    else:
        assert "footer" not in by_reason
    # related-article titles after 推荐阅读 are footer, never speeches
    assert sorted(by_reason.get("chrome", []))[: len(chrome_lines)] == chrome_lines


def test_broken_lines_are_joined(seeds_dir):
    speeches, _ = _split(seeds_dir, P0)
    # lines 14-15 are one paragraph broken in the middle of a word (现在西 / 方部分国家)
    spans = [(p.span.start_line, p.span.end_line) for p in speeches[1].paragraphs]
    assert (14, 15) in spans
    speeches, _ = _split(seeds_dir, P2)
    spans = [(p.span.start_line, p.span.end_line) for p in speeches[2].paragraphs]
    assert (30, 35) in spans  # ``…在过去`` / ``个多月…9`` / ``月`` / ``日，…9`` / ``月`` / ``日，…``
    speeches, _ = _split(seeds_dir, P3)
    spans = [(p.span.start_line, p.span.end_line) for p in speeches[0].paragraphs]
    assert (37, 39) in spans  # broken across a blank line: ``登记`` / (blank) / ``和随访工作``


FAMILIES = [
    {f"{P0}#1", f"{P0}#2", f"{P1}#2"},  # the same speech twice in page 000 with a new title, and in 001
    {f"{P1}#1", f"{P1}#8", f"{P4}#5"},  # 001 prints it twice; 004 re-wraps it
    {f"{P3}#1", f"{P4}#1"},  # 004 adds section headings
    {f"{P3}#2", f"{P4}#3"},  # 004's copy stops halfway: a containment pair
]


def test_families_on_seeds(seeds_dir):
    result = dupspeech.cluster(seeds_dir)
    assert len(result.speeches) == 27
    assert [set(c.speeches) for c in result.clusters] == FAMILIES
    assert result.clusters[3].contained == (f"{P4}#3",)
    truncated = [p for p in result.pairs if p.relation == "containment"]
    assert [(p.a, p.b) for p in truncated] == [(f"{P3}#2", f"{P4}#3")]
    assert truncated[0].containment_b_in_a > 0.95 and truncated[0].jaccard < 0.6
    # a speech that shares one paragraph or a closing line is not in a family
    members = set().union(*FAMILIES)
    assert f"{P1}#5" not in members and f"{P2}#2" not in members
    assert all(f.status == "ok" and f.encoding == "utf-8" for f in result.files)


def test_families_are_stable_across_modes(seeds_dir):
    for options in ({"shingle": "word"}, {"threshold": 0.8}, {"ngram": 4}, {"seed": 7}):
        result = dupspeech.cluster(seeds_dir, **options)
        assert [set(c.speeches) for c in result.clusters] == FAMILIES, options


def test_gov_reports_do_not_chain(gov_dir):
    result = dupspeech.cluster(gov_dir)
    assert len(result.speeches) == len(result.files) == 72
    for c in result.clusters:
        years = {s.split("年")[0] for s in c.speeches}
        assert len(years) == 1, c
    assert result.clusters == ()
