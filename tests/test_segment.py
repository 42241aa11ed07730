"""Segmentation: markers in every form, bare titles, snippet and chrome, paragraphs joined across breaks."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dupspeech import segment
from dupspeech.config import SegmentConfig
from dupspeech.errors import ConfigError
from dupspeech.models import Document
from dupspeech.segment import split_page

BODY_A = "今天我们召开全县安全生产工作会议，主要任务是部署下一阶段工作。\n一、提高认识\n各部门要把安全生产摆在突出位置，切实落实责任。\n"
BODY_B = "同志们：\n防汛工作事关群众生命财产安全，各乡镇要立即行动起来。\n（一）加强值守\n汛期实行领导带班制度，确保信息畅通。\n"


def split(text: str, **cfg):
    return split_page(Document("p.txt", text), SegmentConfig(**cfg) if cfg else None)


def titles(text: str) -> list[str]:
    return [s.title for s in split(text)[0]]


@pytest.mark.parametrize(
    "marker, expected",
    [
        ("【篇1】", "【篇1】"),
        ("【篇２】", "【篇２】"),
        ("【第3篇】", "【第3篇】"),
        ("【第十二篇】", "【第十二篇】"),
        ("第一篇：", "第一篇"),
        ("第3篇 ", "第3篇"),
        ("篇4：", "篇4"),
        ("篇五：", "篇五"),
        ("范文6：", "范文6"),
        ("范文七 ", "范文七"),
    ],
)
def test_leading_markers(marker, expected):
    page = f"{marker}在全县安全生产会议上的讲话\n{BODY_A}{marker.replace('1', '9')}在全市防汛会议上的讲话\n{BODY_B}"
    speeches, _ = split(page)
    assert len(speeches) == 2
    assert speeches[0].marker == expected
    assert speeches[0].title == "在全县安全生产会议上的讲话"
    assert speeches[1].title == "在全市防汛会议上的讲话"


@pytest.mark.parametrize("suffix", ["篇一", "篇二", "（第一篇）", "【篇1】", "篇3"])
def test_marker_after_title(suffix):
    page = f"乡镇安全生产会议上的讲话{suffix}\n\n{BODY_A}\n乡镇防汛会议上的讲话篇九\n\n{BODY_B}"
    speeches, _ = split(page)
    assert [s.marker for s in speeches] == [suffix, "篇九"]
    assert speeches[0].title == "乡镇安全生产会议上的讲话"


def test_marker_only_line_and_title_on_next_line():
    page = f"【篇1】\n在全县安全生产会议上的讲话\n{BODY_A}【篇2】\n{BODY_B}"
    speeches, _ = split(page)
    assert [s.marker for s in speeches] == ["【篇1】", "【篇2】"]
    assert speeches[0].title == "在全县安全生产会议上的讲话"
    assert speeches[0].span.start_line == 1


def test_title_repeated_under_marker_is_one_speech():
    page = f"第三篇：在校园安全工作会上的讲话\n在校园安全工作会上的讲话\n{BODY_A}"
    speeches, _ = split(page)
    assert len(speeches) == 1
    assert [p.kind for p in speeches[0].paragraphs[:2]] == ["title", "title"]


def test_bare_titles_split_when_markers_are_lost():
    page = (
        "全县防汛工作会议讲话提纲\n2024年6月\n" + BODY_A
        + "在全市安全生产部署会上的讲话\n" + BODY_B
        + "县应对汛期工作推进会讲话提纲\n" + BODY_A
    )
    speeches, _ = split(page)
    assert [s.title for s in speeches] == [
        "全县防汛工作会议讲话提纲",
        "在全市安全生产部署会上的讲话",
        "县应对汛期工作推进会讲话提纲",
    ]
    assert [s.span.start_line for s in speeches] == [1, 6, 11]


def test_mixed_markers_and_bare_titles():
    page = f"第一篇：在全县会议上的讲话\n{BODY_A}在全区安全生产会议上的讲话\n{BODY_B}第三篇：在全市会议上的讲话\n{BODY_A}"
    speeches, _ = split(page)
    assert [s.marker for s in speeches] == ["第一篇", None, "第三篇"]


@pytest.mark.parametrize(
    "heading",
    ["一、压实责任", "（一）加强值守", "(二)强化督查", "一是加强组织领导。", "第一条 总则", "第一章 总则", "第一部分 形势",
     "第一，加强领导。", "首先，统一思想。"],
)
def test_section_headings_are_not_boundaries(heading):
    page = f"【篇1】在全县会议上的讲话\n同志们：\n今天开会。\n{heading}\n要抓好落实，确保各项工作落到实处。\n"
    speeches, _ = split(page)
    assert len(speeches) == 1


def test_page_without_markers_or_titles_is_one_speech():
    page = "各位代表：\n现在我代表政府报告工作。\n一、过去一年的工作\n经济运行总体平稳。\n"
    speeches, dropped = split(page)
    assert len(speeches) == 1
    assert speeches[0].span.start_line == 1 and speeches[0].span.end_line == 4
    assert dropped == []


def test_title_inside_a_broken_sentence_is_not_a_boundary():
    # ``政府工作报告`` here continues the line above: not a title
    page = "会议听取和审议了国务院总理所作的\n政府工作报告\n。会议充分肯定国务院过去一年的工作。\n"
    assert len(split(page)[0]) == 1


def test_snippet_first_line_is_dropped_and_lends_its_marker():
    title = "在全区秋季安全生产工作部署会上的讲话"
    snippet = f" 第一篇：{title}{title}今天我们召开全县安全生产工作会议，主要任务是部署下一阶段..."
    page = f"{snippet}\n {title}\n{BODY_A}第二篇：在全市会议上的讲话\n{BODY_B}"
    speeches, dropped = split(page)
    assert [d.reason for d in dropped] == ["snippet"]
    assert dropped[0].span.start_line == 1
    assert speeches[0].marker == "第一篇" and speeches[0].span.start_line == 2


def test_line_ending_with_dots_that_is_not_a_snippet_is_kept():
    page = "这件事情我们还要继续研究，大家都在等待结果，到底会怎么样呢……\n下面我讲三点意见。\n"
    speeches, dropped = split(page)
    assert dropped == [] and speeches[0].span.start_line == 1


def test_chrome_preamble_and_footer():
    page = (
        "安全生产会议讲话范文(通用3篇)\n\n作者：小王 来源：网友投稿\n\n本文原地址：<https://example.com/a/1.html>\n"
        "演讲稿 会员上传 下载docx\n更新时间:2023-06-15 12:27:53\n"
        "以下是为大家整理的关于安全生产会议讲话的文章3篇 ,欢迎品鉴!\n\n"
        f"【篇1】安全生产会议讲话\n\n{BODY_A}\n【篇2】防汛会议讲话\n\n{BODY_B}\n"
        "推荐阅读:\n\n在警示教育大会上的讲话范文(精选10篇)\n\n关于在全省工作推进会上的讲话【三篇】\n\n标签: 安全\n\n猜你喜欢\n"
    )
    speeches, dropped = split(page)
    assert len(speeches) == 2
    reasons = {d.span.start_line: d.reason for d in dropped}
    assert reasons[1] == "chrome" and reasons[3] == "chrome" and reasons[5] == "chrome"
    assert reasons[6] == "chrome" and reasons[7] == "chrome" and reasons[8] == "chrome"
    footer_lines = [ln for ln, r in reasons.items() if r == "footer"]
    assert min(footer_lines) == page.splitlines().index("推荐阅读:") + 1
    assert speeches[-1].span.end_line < min(footer_lines)


def test_short_preamble_dropped_long_preamble_is_a_speech():
    short = f"这是本站整理的文章。\n【篇1】在全县会议上的讲话\n{BODY_A}"
    speeches, dropped = split(short)
    assert len(speeches) == 1 and dropped[0].reason == "preamble"
    long = "前言" + "这是一段很长的正文内容，讲的是安全生产工作的重要性。" * 10 + "\n" + f"【篇1】在全县会议上的讲话\n{BODY_A}"
    speeches, dropped = split(long)
    assert len(speeches) == 2 and speeches[0].marker is None


def test_lines_broken_mid_sentence_make_one_paragraph():
    page = (
        "【篇1】在全县会议上的讲话\n"
        "各乡镇要压实属地责任，加强重点人员排查，做好登记\n"
        "\n"
        "和随访工作，确保不漏一人。\n"
        "截至9\n月\n24日，全县已完成排查。\n"
        "让“我是党员我先上\n”成为最响亮的口号。\n"
        "二、强化保障\n"
        "要备足物资。\n"
    )
    s = split(page)[0][0]
    body = [p for p in s.paragraphs if p.kind == "body"]
    assert [(p.span.start_line, p.span.end_line) for p in body] == [(2, 4), (5, 7), (8, 9), (11, 11)]
    assert [p.kind for p in s.paragraphs] == ["title", "body", "body", "body", "heading", "body"]


def test_indentation_and_quote_markers_are_not_text():
    doc = Document("p.txt", "【篇1】在全县会议上的讲话\n>\u3000\u3000一、提高认识\n\u3000\u3000各部门要落实责任。\n")
    s = split_page(doc)[0][0]
    heading = s.paragraphs[1]
    assert heading.kind == "heading"
    assert doc.text[heading.span.start : heading.span.end] == "一、提高认识"


def test_same_speech_twice_in_one_page_gives_two_speeches():
    page = f"在全县会议上的讲话\n{BODY_A}在全区会议上的讲话\n{BODY_A}"
    assert len(split(page)[0]) == 2


def test_crlf_lines_and_offsets():
    text = "【篇1】在全县会议上的讲话\r\n同志们：\r\n今天开会。\r\n"
    doc = Document("p.txt", text)
    s = split_page(doc)[0][0]
    assert (s.span.start_line, s.span.end_line) == (1, 3)
    assert text[s.paragraphs[-1].span.start : s.paragraphs[-1].span.end] == "今天开会。"


def test_empty_and_blank_pages():
    assert split("") == ([], [])
    assert split("\n \u3000\n") == ([], [])


def test_config_validation():
    with pytest.raises(ConfigError, match="max_title_chars"):
        SegmentConfig(max_title_chars=1)
    with pytest.raises(ConfigError, match="regular expression"):
        SegmentConfig(extra_chrome=("(",))


def test_extra_chrome_pattern():
    page = f"本站声明：仅供参考\n【篇1】在全县会议上的讲话\n{BODY_A}"
    _, dropped = split(page, extra_chrome=(r"^本站声明",))
    assert dropped[0].reason == "chrome"


# --- properties -----------------------------------------------------------------------------------------------

_line = st.one_of(
    st.sampled_from(["【篇1】在全县会议上的讲话", "第二篇：防汛会议讲话", "一、提高认识", "同志们：", "", " ", "推荐阅读:",
                     "作者：某 来源：网友投稿", "各部门要落实责任，", "确保安全。", "在全市会议上的讲话"]),
    st.text(alphabet="安全生产工作会议，。：、一二三\u3000 >x", max_size=40),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_line, max_size=30), st.sampled_from(["\n", "\r\n"]))
def test_spans_are_ordered_disjoint_and_map_back(lines, eol):
    text = eol.join(lines)
    doc = Document("p.txt", text)
    speeches, dropped = split_page(doc)
    covered = []
    for s in speeches:
        assert doc.line_of(s.span.start) == s.span.start_line
        assert s.paragraphs
        for p in s.paragraphs:
            chunk = text[p.span.start : p.span.end]
            assert chunk and chunk == chunk.strip(), (chunk, p)
            assert doc.line_of(p.span.start) == p.span.start_line
            assert doc.line_of(p.span.end - 1) == p.span.end_line
            assert s.span.start <= p.span.start <= p.span.end <= s.span.end
            covered.append((p.span.start, p.span.end))
    for d in dropped:
        covered.append((d.span.start, d.span.end))
    covered.sort()
    for (a0, a1), (b0, b1) in zip(covered, covered[1:]):
        assert a1 <= b0
    # every non-space character is in a paragraph or a dropped line: nothing silently lost
    kept = set()
    for a, b in covered:
        kept.update(range(a, b))
    lost = [c for i, c in enumerate(text) if i not in kept and not re.match(r"[\s\u3000>＞\ufeff]", c)]
    assert not lost, lost


@pytest.mark.parametrize(
    "line",
    ["作者：小六 来源：网友投稿", "本文原地址：<https://example.com/a>", "https://example.com/a", "www.example.com",
     "ECMS帝国之家，为帝国cms加油！", "演讲稿 会员上传 下载docx", "更新时间:2023-06-15", "…欢迎品鉴!",
     "以下是为大家整理的", "小编给大家介绍", "阅读：123", "字号：大", "上一篇：某讲话", "版权所有 2024", "© 2024",
     "责任编辑：王", "发布者：李", "原文链接：x", "下载全文"],
)
def test_chrome_lines_pass_the_word_prefilter(line):
    # the splitter only runs the chrome expressions on lines holding one of these words
    from dupspeech.segment import _CHROME_RE, _CHROME_WORDS

    assert _CHROME_RE.search(line)
    assert any(word in line for word in _CHROME_WORDS)


# --- the shortcuts the splitter takes for speed, against what they stand for ---------------------------------

_patterns = st.sampled_from([("chrome", p) for p in segment._CHROME] + [("footer", p) for p in segment._FOOTER_START])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data(), _patterns)
def test_every_chrome_and_footer_match_holds_a_prefilter_word(data, kind_pattern):
    # lines without one of the words skip the expressions, so no expression may match a line without one
    kind, pattern = kind_pattern
    line = data.draw(st.from_regex(pattern))
    if kind == "chrome":
        assert segment._CHROME_WORDS_RE.search(line) and segment._MAYBE_CHROME.search(line)
    else:
        assert segment._FOOTER_WORDS_RE.search(line)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data(), st.sampled_from([segment._HEADING, segment._DATE_LINE]))
def test_every_heading_and_date_line_starts_with_a_head_first_char(data, pattern):
    # lines that start with another character skip both expressions (segment._line_kinds)
    line = data.draw(st.from_regex(pattern))
    assert pattern.match(line)
    assert line[:1] in segment._HEAD_FIRST


@pytest.mark.parametrize("line", ["一、总体要求", "（三）主要任务", "3. 加强领导", "二是强化责任", "第二条 本办法",
                                  "首先，统一思想", "最后、", "⑤ 落实", "2024年5月8日", "二〇二四年", "１２．要求",
                                  "一年来，我们做了很多工作。", "第一次会议上", "今天的会议", "（完）"])
def test_line_kinds_agree_with_the_expressions(line):
    heading, date, closes = segment._line_kinds([line, ""])
    assert heading == [segment._is_heading(line), False]
    assert date == [bool(segment._DATE_LINE.match(line)), False]
    assert closes == [segment._ends_sentence(line), True]


def test_indent_chars_are_what_backslash_s_matches():
    space = re.compile(r"\s")
    for cp in range(0x110000):
        c = chr(cp)
        # _lines strips these; Speech.chars counts with str.split(), which splits at str.isspace()
        assert (c in segment._INDENT_CHARS) == bool(space.match(c) or c in ">＞"), hex(cp)
        assert c.isspace() == bool(space.match(c)), hex(cp)


_raw_line = st.lists(st.sampled_from(["", " ", "\t", "\u3000", "\xa0", "\ufeff", ">", "＞", "\x0b", "\u2028", "讲话",
                                      "好。", "a b", "\x85"]), max_size=6).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_raw_line, st.sampled_from(["\n", "\r\n", "\r", "\n\n"])), max_size=8), st.booleans())
def test_lines_are_the_line_spans_without_indentation(parts, last_break):
    text = "".join(line + eol for line, eol in parts)
    text = text if last_break or not parts else text[: -len(parts[-1][1])]
    doc = Document("p.txt", text)
    expected = []
    for no in range(1, doc.line_count + 1):  # the definition: line_span, then indentation and quote markers off
        s, e = doc.line_span(no)
        raw = text[s:e]
        lead = re.match(r"^[\s\u3000\xa0>＞]*", raw).end()
        core = raw[lead:].rstrip(" \t\u3000\xa0\ufeff")
        lead += len(core) - len(core.lstrip("\ufeff"))
        core = core.lstrip("\ufeff")
        expected.append((no, s + lead, s + lead + len(core), core))
    begin, end, core = segment._lines(doc)
    assert list(zip(range(1, len(core) + 1), begin, end, core)) == expected


_page_line = st.sampled_from(
    ["【篇1】在全县会议上的讲话", "第二篇：防汛会议讲话", "在全市会议上的讲话篇三", "推荐阅读:", "相关文章：", "猜你喜欢",
     "标签: 安全", "更多范文请访问本站", "各部门要落实责任，", "确保安全。", "一、提高认识", "作者：某 来源：网友投稿",
     "", "热门文章"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_page_line, max_size=25))
def test_footer_is_the_first_footer_start_with_no_marker_after_it(lines):
    splitter = segment._PageSplitter(Document("p.txt", "\n".join(lines)), SegmentConfig())
    nonblank = [i for i, c in enumerate(splitter.core) if c]
    expected = len(splitter.core)
    for pos, i in enumerate(nonblank):  # the definition, tested line by line
        core = splitter.core[i]
        later = nonblank[pos + 1 :]
        if len(core) <= 80 and segment._FOOTER_RE.search(core) and not any(
            segment._marker(splitter.core[j], 48) for j in later
        ):
            expected = i
            break
    assert splitter._find_footer(nonblank) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(_line, max_size=30), st.sampled_from(["\n", "\r\n"]))
def test_speech_chars_count_the_non_space_characters(lines, eol):
    text = eol.join(lines)
    for s in split(text)[0]:
        assert s.chars == sum(len(re.sub(r"\s+", "", text[p.span.start : p.span.end])) for p in s.paragraphs)
