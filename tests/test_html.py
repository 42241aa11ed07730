from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess

import pytest

import dupspeech
from dupspeech import html as report_html

INJECTED = '<script>document.title="pwned"</script>'
PARAS = [
    "今年入汛以来，全镇降雨量比往年同期明显偏多，部分河道水位持续上涨，防汛形势十分严峻，各村各部门要清醒认识当前面临的困难和风险。",
    f"要全面排查隐患。{INJECTED}对辖区内的山塘水库、河堤渠道、地质灾害点逐一进行拉网式检查，建立问题清单，明确整改责任人和完成时限。",
    "要备足物资队伍。镇里统一调配编织袋、救生衣、抽水泵等防汛物资，各村组建不少于二十人的应急抢险队伍，实行二十四小时值班值守，"
    "确保险情发生后能够拉得出、冲得上、打得赢，绝不能因为准备不足而贻误战机。",
]
SCHOOL = [
    "今天我们在这里召开全镇教育工作会议，回顾总结过去一年的教育工作，研究部署新学年的重点任务，请大家认真抓好落实。",
    PARAS[2],
    "新学年，各学校要把立德树人作为根本任务，深化课堂教学改革，关心关爱每一名学生的成长，努力办好人民满意的教育。",
]


def corpus() -> dict[str, str]:
    return {
        "甲<u>镇</u>.txt": "【篇1】甲镇<em>防汛</em>工作会议讲话\n" + "\n".join(PARAS) + "\n",
        "乙镇.txt": "【篇1】乙镇防汛工作会议讲话\n" + "\n".join(PARAS).replace("全镇", "全乡") + "\n",
        "学校.txt": "【篇1】在全镇教育工作会议上的讲话\n" + "\n".join(SCHOOL) + "\n",
    }


@pytest.fixture(scope="module")
def result():
    r = dupspeech.cluster(corpus())
    assert r.clusters and len(r.copies) >= 2
    return r


@pytest.fixture(scope="module")
def page(result):
    return report_html.report(result)


def ids_and_links(page: str) -> tuple[list[str], list[str]]:
    return re.findall(r'\bid="([^"]+)"', page), re.findall(r'\bhref="#([^"]+)"', page)


def test_corpus_strings_are_escaped(page):
    assert "<script" not in page.lower()
    assert "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;" in page
    assert "<u>" not in page and "甲&lt;u&gt;镇&lt;/u&gt;.txt" in page
    assert "<em>" not in page and "甲镇&lt;em&gt;防汛&lt;/em&gt;工作会议讲话" in page


def test_page_is_self_contained(page):
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert not re.search(r"\b(src|srcset)\s*=", page) and "url(" not in page and "@import" not in page
    assert all(link.startswith("#") for link in re.findall(r'href="([^"]*)"', page))
    assert "Content-Security-Policy" in page


def test_every_link_resolves_and_marks_link_to_their_counterpart(result, page):
    ids, links = ids_and_links(page)
    assert len(ids) == len(set(ids)), "ids must be unique"
    assert set(links) <= set(ids)
    for n in range(len(result.copies)):
        assert f'id="s-{n}"' in page and f'id="t-{n}"' in page
        assert re.search(rf'<mark class="q\d" id="s-{n}"[^>]*><a href="#t-{n}">', page)
        assert re.search(rf'<mark class="q\d" id="t-{n}"[^>]*><a href="#s-{n}">', page)


def test_a_passage_over_several_lines_is_one_anchor_and_many_pieces(result, page):
    long = next(n for n, c in enumerate(result.copies) if c.source.end_line > c.source.start_line)
    assert page.count(f'id="s-{long}"') == 1
    assert page.count(f'href="#t-{long}"') >= 2  # one piece per line, each linking to the counterpart


def test_overview_lists_families_with_titles_and_files(result, page):
    assert 'id="family-0"' in page
    assert "乙镇防汛工作会议讲话" in page and "乙镇.txt" in page
    assert 'href="#pair-0"' in page and 'id="pair-0"' in page


def test_boilerplate_is_drawn_differently(result):
    marked = dataclasses.replace(result, copies=(dataclasses.replace(result.copies[0], boilerplate=True),
                                                 *result.copies[1:]))
    marked = dataclasses.replace(marked, documents=result.documents)
    page = report_html.report(marked)
    assert re.search(r'<mark class="bp" id="s-0"', page)
    assert "boilerplate" in page
    assert re.search(r"mark\.bp\{[^}]*dotted", page)


def test_similarity_sets_the_colour(result):
    assert report_html._scale(0.95) == "q5" and report_html._scale(0.55) == "q1"
    weaker = dataclasses.replace(result, copies=tuple(dataclasses.replace(c, similarity=0.65) for c in result.copies))
    page = report_html.report(dataclasses.replace(weaker, documents=result.documents))
    assert '<mark class="q2" id="s-0"' in page


def test_large_results_are_capped_and_say_so(result):
    views = report_html.pair_views(result)
    assert len(views) >= 2
    page = report_html.report(result, max_pairs=1)
    assert page.count('<section id="pair-') == 1
    assert f"Showing the 1 speech pairs with the most copied text out of {len(views)}" in page
    ids, links = ids_and_links(page)
    assert set(links) <= set(ids)


def test_notebook_views_of_result_family_and_comparison(result, tmp_path):
    one = result._repr_html_()
    two = result._repr_html_()
    assert one.startswith('<div class="ds"><style>') and "<html" not in one
    ids_one, links_one = ids_and_links(one)
    assert set(links_one) <= set(ids_one)
    assert not set(ids_one) & set(ids_and_links(two)[0]), "two views in one notebook must not share ids"
    family = result.family(0)
    assert {s.file for s in family.speeches} == {"甲<u>镇</u>.txt", "乙镇.txt"}
    assert "<mark" in family._repr_html_() and "学校.txt" not in family._repr_html_()
    (tmp_path / "a.txt").write_text("\n".join(SCHOOL), encoding="utf-8")
    (tmp_path / "b.txt").write_text("\n".join(PARAS), encoding="utf-8")
    cmp = dupspeech.compare(tmp_path / "a.txt", tmp_path / "b.txt")
    assert cmp.documents and "<mark" in cmp._repr_html_()
    with pytest.raises(KeyError, match="no family 7"):
        result.family(7)


def test_split_result_renders_a_speech_table():
    view = dupspeech.split(corpus())._repr_html_()
    assert "Speeches" in view and "乙镇防汛工作会议讲话" in view and 'id="ds' not in view


def _browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_browser() is None, reason="no chromium (.ci/run installs Debian's chromium)")
def test_report_in_a_real_browser(page, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    profile = tmp_path / "profile"
    run = subprocess.run(
        [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=90, encoding="utf-8",
    )
    dom = run.stdout
    assert "<body" in dom, run.stderr[-2000:]
    # the injected script did not run (it would have renamed the page) and shows as text
    assert "<title>dupspeech report</title>" in dom and "pwned</title>" not in dom
    assert not re.search(r"<script\b", dom)
    assert '&lt;script&gt;document.title="pwned"&lt;/script&gt;' in dom
    # what the browser built: the marks with their ids and links, the Chinese text decoded as UTF-8
    assert dom.count("<mark") == page.count("<mark")
    ids, links = ids_and_links(dom)
    assert {"s-0", "t-0"} <= set(ids) and set(links) <= set(ids)
    assert "要备足物资队伍" in dom and "甲镇&lt;em&gt;防汛&lt;/em&gt;工作会议讲话" in dom
