"""Pages → speeches → paragraphs.

A scraped 范文 page bundles several speeches. A speech starts at

* a **marker line**: ``【篇1】Title``, ``【第2篇】``, ``第三篇：Title``, ``篇4：Title``, ``范文5``, or a title that
  ends with its marker, ``Title篇一`` / ``Title（第二篇）`` (Arabic, full-width or Chinese numerals);
* a **bare title line** where the marker was lost: a short line with no sentence punctuation that ends with a
  speech genre (``…会上的讲话``, ``…讲话提纲``, ``…发言``, ``…致辞``, ``…工作报告``), standing after a finished
  paragraph and followed by text.

Section headings inside a speech (``一、``, ``（一）``, ``一是``, ``第一条``, ``第一章``, ``第一部分``) never start a
speech. A page with neither markers nor titles is one speech.

Not speech text, and reported as :class:`~dupspeech.models.Dropped` with a reason: the web snippet on the first
line (title plus the start of the text cut with ``...``), site chrome (author/source lines, URLs, download
buttons, update times, "欢迎品鉴" introductions, collection titles such as ``…范文(通用9篇)``), a short
preamble before the first marker, and the footer (``推荐阅读``, ``相关文章``, licence notices...).

Paragraphs: lines broken in the middle of a sentence, even across a blank line, are joined; a line ends a
paragraph when it ends with sentence punctuation or is a heading or title.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from .config import SegmentConfig
from .models import Document, Dropped, Paragraph, Span, Speech

_NUM = r"[0-9０-９]{1,3}|[一二三四五六七八九十百零〇两]{1,4}"
_SEP = r"[：:、.．\s]*"

# Markers that stand at the start of a line; whatever follows is the title.
_LEADING_MARKER = re.compile(
    rf"""^(?P<marker>
        【\s*(?:第\s*)?(?:篇|范文)?\s*(?:{_NUM})\s*(?:篇)?\s*】{_SEP}
      | 第\s*(?:{_NUM})\s*篇(?![章幅目])\s*(?:[：:、.．]\s*|\s+|$)
      | 篇\s*(?:{_NUM})\s*(?:[：:、.．]\s*|\s+|$)
      | (?:精选|优秀)?范文\s*(?:{_NUM})\s*(?:[：:、.．]\s*|\s+|$)
    )(?P<rest>.*)$""",
    re.VERBOSE,
)
# Markers written after the title: ``…的讲话篇一``, ``…讲话（第二篇）``, ``…讲话【篇3】``.
_TRAILING_MARKER = re.compile(
    rf"^(?P<rest>.{{2,}}?)\s*(?P<marker>[（(【]\s*第\s*(?:{_NUM})\s*篇\s*[）)】]|[（(【]?\s*(?:篇|范文)\s*(?:{_NUM})\s*[）)】]?)$"
)
# ``…讲话范文(通用9篇)``, ``…讲话4篇``, ``…【三篇】``: the title of a collection page, not of a speech.
_COLLECTION_TITLE = re.compile(rf"(?<!第)(?:[（(【]\s*)?(?:通用|精选|优选|热门|最新|合集)?\s*(?:{_NUM})\s*篇\s*[）)】]?$")

_GENRE = re.compile(
    r"(?:讲话|讲话稿|讲话提纲|讲话材料|讲稿|发言|发言稿|发言提纲|发言材料|致辞|贺词|演讲|演讲稿|主持词|"
    r"工作报告|报告会|动员会|部署会|推进会|汇报)"
    r"(?:[（(][^（）()]{1,20}[）)])?$"
)
_HEADING = re.compile(
    rf"""^(?:
        (?:{_NUM})\s*[、.．]
      | [（(]\s*(?:{_NUM})\s*[）)]
      | (?:{_NUM})\s*是
      | 第\s*(?:{_NUM})\s*(?:条|章|节|部分|项|点|个方面|[，,、])
      | (?:首先|其次|再次|最后)[，,、]
      | [①-⑳]
    )""",
    re.VERBOSE,
)
_DATE_LINE = re.compile(r"^(?:[0-9０-９]{4}|二[〇零○][一二三四五六七八九〇零○]{2})年(?:[0-9０-９一二三四五六七八九十]{1,2}月)?(?:[0-9０-９一二三四五六七八九十]{1,3}日)?$")
_SENTENCE_PUNCT = re.compile(r"[。！？!?；;]")
_TERMINAL = set("。！？!?；;：:…")
_CLOSING_QUOTES = set("”’」』\"'")
_LEADS_CONTINUATION = re.compile(r"^[，,、。；;：:）)”’」』》\]】]|^[0-9０-９]+[月日%％]|^[月日]")

_CHROME = [
    r"^(?:作者|来源|出处|编辑|责任编辑|发布者|发布人|投稿)\s*[：:]",
    r"(?:作者|来源)\s*[：:].{0,30}(?:来源|投稿|原创|网友)",
    r"^(?:本文)?(?:原)?(?:地址|网址|链接|原文链接|本文链接)\s*[：:]",
    r"^<?https?://\S+>?$|^www\.\S+$",
    r"本文原地址",
    r"ECMS|帝国cms|帝国之家",
    r"下载\s*(?:docx?|pdf|word|WORD|PDF|DOCX?)\b|^(?:立即|免费)?下载(?:本文|全文)?$",
    r"(?:更新|发布|发表|上传)时间\s*[：:]",
    r"欢迎(?:品鉴|阅读|借鉴|参考|收藏|阅览)",
    r"以下是(?:为大家|小编|本站|我们)?(?:整理|精心|收集|分享|准备)",
    r"小编(?:为|给|就给)?大家",
    r"^(?:演讲稿|讲话稿|范文|发言稿|致辞)\s+(?:会员上传|网友投稿|用户上传)",
    r"^(?:阅读|浏览|点击)(?:量|次数)?\s*[：:]\s*\d+",
    r"^(?:字号|打印|收藏|分享到|关闭窗口)\s*[：:]?",
    r"^(?:上一篇|下一篇)\s*[：:]",
    r"^(?:版权所有|Copyright|©)",
]
_FOOTER_START = [
    r"^(?:推荐阅读|相关阅读|相关文章|猜你喜欢|大家正在看|热门文章|延伸阅读|相关推荐|精彩推荐|热门推荐)\s*[：:]?$",
    r"^(?:推荐阅读|相关阅读|相关文章|猜你喜欢)\s*[：:]",
    r"^标签\s*[：:]",
    r"^换一换$",
    r"^更多\s*.{0,10}(?:请访问|请关注|尽在)",
    r"文章生成PDF",
    r"^本作品(?:是|来自|在|属于|采用|依据)",
    r"^Public domain$",
]
# Every footer pattern contains one of these words: lines without any skip the regular expression.
_FOOTER_WORDS = (
    "推荐", "相关", "猜你喜欢", "大家正在看", "热门", "延伸阅读", "标签", "换一换", "更多", "文章生成PDF", "本作品",
    "Public domain",
)
_SNIPPET_END = ("...", "…", "。。。")
# Every built-in chrome pattern contains one of these words: lines without any skip the regular expressions.
_CHROME_WORDS = (
    "作者", "来源", "出处", "编辑", "发布", "投稿", "地址", "网址", "链接", "http", "www", "ECMS", "帝国", "下载",
    "时间", "欢迎", "以下是", "小编", "上传", "阅读", "浏览", "点击", "字号", "打印", "收藏", "分享", "关闭", "一篇",
    "版权", "Copyright", "©",
)


@dataclass(slots=True)
class _Head:
    line: int  # index into the list of lines
    marker: str | None
    title: str
    title_lines: list[int]


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_CHROME_RE = _compile(_CHROME)
_FOOTER_RE = _compile(_FOOTER_START)
# One search for any of the words instead of a Python loop over them (tests check the words against the patterns).
_CHROME_WORDS_RE = re.compile("|".join(map(re.escape, _CHROME_WORDS)))
_FOOTER_WORDS_RE = re.compile("|".join(map(re.escape, _FOOTER_WORDS)))
# A line can only be chrome (see _PageSplitter._is_chrome) if it holds one of the words or "篇": one search over
# a whole page finds those few lines, so the other lines (most of them) need no test at all.
_MAYBE_CHROME = re.compile("|".join(map(re.escape, (*_CHROME_WORDS, "篇"))))
_JOIN_STOPPER = re.compile(r"[，,、“”]")
# Indentation and quote markers before a line's content: every white-space character (``str.isspace``, as
# ``\s`` in a regular expression; tests check the list against it), ``>`` and ``＞``.
_INDENT_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000>＞"
)


_TRAILING_SPACES = " \t\u3000\xa0\ufeff"


def _lines(doc: Document) -> tuple[list[int], list[int], list[str]]:
    """Where each line's content starts and ends, and the content: the line without its indentation, quote
    markers and trailing spaces. Line ``i`` (0-based) is the editor's line ``i + 1``.

    Built a step at a time over all lines (most steps return the line itself, unchanged), not line by line.
    """
    text, starts, count = doc.text, doc.line_starts, doc.line_count
    if "\r" in text:
        ends = [*starts[1 : count + 1], len(text)][:count]
        raws = [text[s:e].rstrip("\r\n") for s, e in zip(starts, ends)]
    else:  # the lines are what splitting at "\n" gives; a final line break opens no line
        raws = text.split("\n")[:count]
    unindented = [raw.lstrip(_INDENT_CHARS) for raw in raws]
    trimmed = [u.rstrip(_TRAILING_SPACES) for u in unindented]
    cores = [t.lstrip("\ufeff") for t in trimmed]
    begin = [s + len(r) - len(u) + len(t) - len(c) for s, r, u, t, c in zip(starts, raws, unindented, trimmed, cores)]
    return begin, [b + len(c) for b, c in zip(begin, cores)], cores


def _ends_sentence(core: str) -> bool:
    if not core:
        return True
    last = core[-1]
    if last in _TERMINAL:
        return True
    if last in _CLOSING_QUOTES:
        return len(core) >= 2 and (core[-2] in _TERMINAL or core[-2] in _CLOSING_QUOTES)
    return False


def _is_heading(core: str) -> bool:
    return len(core) <= 60 and bool(_HEADING.match(core)) and not _SENTENCE_PUNCT.search(core[:-1])


# Every heading (``_HEADING``) and date line (``_DATE_LINE``) starts with one of these characters (tests check the
# set against both patterns): lines that start otherwise, most of them, need neither regular expression.
_HEAD_FIRST = frozenset("0123456789０１２３４５６７８９一二三四五六七八九十百零〇两（(第首其再最①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳")


def _line_kinds(cores: list[str]) -> tuple[list[bool], list[bool], list[bool]]:
    """For every line: whether it is a heading (:func:`_is_heading`), a date line (``_DATE_LINE``), and whether it
    ends a sentence (:func:`_ends_sentence`); computed once per page, each pass uses them."""
    heading = [False] * len(cores)
    date = [False] * len(cores)
    for i, core in enumerate(cores):
        if core[:1] in _HEAD_FIRST:
            heading[i] = _is_heading(core)
            date[i] = _DATE_LINE.match(core) is not None
    return heading, date, [_ends_sentence(core) for core in cores]


def _marker(core: str, max_title: int) -> tuple[str, str] | None:
    """``(marker, title)`` when the line is a speech marker line."""
    if len(core) > max_title + 16 or ("篇" not in core and "范文" not in core):
        return None
    m = _LEADING_MARKER.match(core)
    if m:
        rest = m.group("rest").strip()
        if rest and (_SENTENCE_PUNCT.search(rest) or len(rest) > max_title):
            return None
        return m.group("marker").strip().rstrip("：:、.．").strip(), rest
    m = _TRAILING_MARKER.match(core)
    if m and not _SENTENCE_PUNCT.search(m.group("rest")) and len(m.group("rest")) <= max_title:
        return m.group("marker").strip(), m.group("rest").strip()
    return None


def _looks_like_title(core: str, max_title: int, heading: bool | None = None) -> bool:
    """Whether the line is a bare speech title; ``heading`` is :func:`_is_heading` of it when already known."""
    return (
        4 <= len(core) <= max_title
        and "，" not in core  # the cheap tests first: most lines fail them
        and not _SENTENCE_PUNCT.search(core)
        and not (_is_heading(core) if heading is None else heading)
        and bool(_GENRE.search(core))
    )


def _snippet_marker(core: str) -> str | None:
    m = _LEADING_MARKER.match(core)
    return m.group("marker").strip().rstrip("：:、.．").strip() if m else None


def _is_snippet(core: str, following: list[str]) -> bool:
    """A first line (``core``) that repeats the start of the page (the ``following`` lines) and stops with ``...``."""
    if not core.endswith(_SNIPPET_END) or len(core) < 30:
        return False
    body = re.sub(r"\s+", "", core.rstrip(".…。"))
    ahead = re.sub(r"\s+", "", "".join(following[:12]))
    grams = {body[i : i + 4] for i in range(len(body) - 3)}
    if not grams:
        return False
    found = sum(1 for g in grams if g in ahead)
    return found / len(grams) >= 0.5


class _PageSplitter:
    def __init__(self, doc: Document, config: SegmentConfig) -> None:
        self.doc = doc
        self.cfg = config
        self.begin, self.end, self.core = _lines(doc)
        self.heading, self.date, self.closes = _line_kinds(self.core)
        self.chrome = _CHROME_RE
        self.extra_chrome = _compile(config.extra_chrome) if config.extra_chrome else None
        self.dropped: list[Dropped] = []
        self.drop_reason: dict[int, str] = {}

    # -- spans -------------------------------------------------------------------------------------------
    def _span(self, first: int, last: int) -> Span:
        return Span(self.doc.name, self.begin[first], self.end[last], first + 1, last + 1)

    def _drop(self, idx: int, reason: str, detail: str = "") -> None:
        if idx not in self.drop_reason:
            self.drop_reason[idx] = reason
            self.dropped.append(Dropped(self._span(idx, idx), reason, detail))  # type: ignore[arg-type]

    # -- passes --------------------------------------------------------------------------------------------
    def split(self) -> tuple[list[Speech], list[Dropped]]:
        core = self.core
        nonblank = [i for i, c in enumerate(core) if c]
        if not nonblank:
            return [], []
        inherited_marker = None
        first = nonblank[0]
        if _is_snippet(core[first], [core[i] for i in nonblank[1:13]]):
            inherited_marker = _snippet_marker(core[first])
            self._drop(first, "snippet", "web snippet: title and start of the text cut with '...'")
        footer_at = self._find_footer(nonblank)
        if self.extra_chrome is None:
            line_of = self.doc.line_of  # 1-based, so the line's index + 1; no chrome word spans a line break
            maybe_chrome = {line_of(m.start()) - 1 for m in _MAYBE_CHROME.finditer(self.doc.text)}
        else:
            maybe_chrome = None  # the extra patterns may match any line
        for i in nonblank:
            if i >= footer_at:
                self._drop(i, "footer")
            elif (
                i not in self.drop_reason
                and (maybe_chrome is None or i in maybe_chrome)
                and self._is_chrome(core[i])
            ):
                self._drop(i, "chrome")
        live = [i for i in nonblank if i not in self.drop_reason]
        heads = self._find_heads(live)
        speeches: list[Speech] = []
        if not heads:
            if live:
                title_lines = [live[0]] if _looks_like_title(core[live[0]], self.cfg.max_title_chars) else []
                title = core[title_lines[0]] if title_lines else ""
                heads = [_Head(live[0], inherited_marker, title, title_lines)]
        else:
            pre = [i for i in live if i < heads[0].line]
            if pre:
                pre_chars = sum(len(core[i]) for i in pre)
                if pre_chars < self.cfg.max_preamble_chars:
                    for i in pre:
                        self._drop(i, "preamble", "page introduction before the first speech")
                else:
                    heads.insert(0, _Head(pre[0], None, "", []))
            if inherited_marker and heads[0].marker is None:
                heads[0].marker = inherited_marker
        live = [i for i in live if i not in self.drop_reason]
        for k, head in enumerate(heads):
            stop = heads[k + 1].line if k + 1 < len(heads) else len(core)
            body = live[bisect_left(live, head.line) : bisect_left(live, stop)]  # live is sorted
            speech = self._speech(len(speeches) + 1, head, body)
            if speech is not None:
                speeches.append(speech)
        self.dropped.sort(key=lambda d: d.span.start)
        return speeches, self.dropped

    def _is_chrome(self, core: str) -> bool:
        if len(core) > 240:
            return False
        if _CHROME_WORDS_RE.search(core) and self.chrome.search(core):
            return True
        if self.extra_chrome is not None and self.extra_chrome.search(core):
            return True
        if "篇" not in core:
            return False
        # the title of a collection page (``…讲话范文(通用9篇)``), unless it is a speech marker itself
        return bool(_COLLECTION_TITLE.search(core)) and _marker(core, self.cfg.max_title_chars) is None and len(core) <= 60

    def _find_footer(self, nonblank: list[int]) -> int:
        """Index of the first footer line: a footer start after which no speech marker appears."""
        lines, max_title = self.core, self.cfg.max_title_chars
        # No marker may follow the footer start, so it is at or after the last marker line: find that line first,
        # from the end of the page (usually a few lines to test), then look for a footer start from there on.
        last_marker = next(
            (pos for pos in range(len(nonblank) - 1, -1, -1) if _marker(lines[nonblank[pos]], max_title)), 0
        )
        for i in nonblank[last_marker:]:
            core = lines[i]
            if len(core) <= 80 and _FOOTER_WORDS_RE.search(core) and _FOOTER_RE.search(core):
                return i
        return len(lines)

    def _find_heads(self, live: list[int]) -> list[_Head]:
        lines = self.core
        max_title = self.cfg.max_title_chars
        heads: list[_Head] = []
        prev_closed = True  # the previous live line ended a paragraph (or there is none)
        heading, date, closes = self.heading, self.date, self.closes
        for pos, i in enumerate(live):
            core = lines[i]
            found = _marker(core, max_title)
            title_like = found is None and _looks_like_title(core, max_title, heading[i])  # once per line, used twice
            if found is not None:
                marker, title = found
                heads.append(_Head(i, marker, title, [i] if title else []))
            elif prev_closed and title_like:
                nxt = lines[live[pos + 1]] if pos + 1 < len(live) else ""
                if nxt and not _LEADS_CONTINUATION.match(nxt) and _marker(nxt, max_title) is None:
                    last = heads[-1] if heads else None
                    if last is not None and self._only_titles_between(last, i, live):
                        # the title repeated under its marker (``第三篇：T`` then ``T``): same speech
                        last.title_lines.append(i)
                        last.title = last.title or core
                    else:
                        heads.append(_Head(i, None, core, [i]))
            prev_closed = found is not None or title_like or closes[i] or heading[i] or date[i]
        return heads

    def _only_titles_between(self, head: _Head, i: int, live: list[int]) -> bool:
        between = [j for j in live if head.line <= j < i]
        return all(j in head.title_lines or j == head.line for j in between)

    def _speech(self, k: int, head: _Head, body: list[int]) -> Speech | None:
        lines, heading, date, closes = self.core, self.heading, self.date, self.closes
        if not body:
            return None
        paragraphs: list[Paragraph] = []
        titled = set(head.title_lines) | ({head.line} if head.marker or head.title else set())
        pos = 0
        while pos < len(body):
            i = body[pos]
            if i in titled or heading[i] or date[i]:
                paragraphs.append(Paragraph(self._span(i, i), "title" if i in titled else "heading"))
                pos += 1
                continue
            core = lines[i]
            last = pos
            open_ = not closes[i]
            if open_ and len(core) < 25 and not _JOIN_STOPPER.search(core):
                nxt = lines[body[pos + 1]] if pos + 1 < len(body) else ""
                open_ = bool(nxt) and (bool(_LEADS_CONTINUATION.match(nxt)) or core[-1:].isdigit())
            while open_ and last + 1 < len(body):
                j = body[last + 1]
                if heading[j] or j in titled:
                    break
                if j > body[last] + 1 and any(x in self.drop_reason for x in range(body[last] + 1, j)):
                    break  # never join a sentence across a dropped line
                last += 1
                open_ = not closes[j]
            paragraphs.append(Paragraph(self._span(i, body[last]), "body"))
            pos = last + 1
        if not paragraphs:
            return None
        last_p = paragraphs[-1].span
        span = Span(self.doc.name, self.begin[head.line], last_p.end, head.line + 1, last_p.end_line)
        # non-space characters (str.split() splits at exactly the characters ``\s`` matches), counted in one go
        text = self.doc.text
        chars = sum(map(len, "".join([text[p.span.start : p.span.end] for p in paragraphs]).split()))
        return Speech(f"{self.doc.name}#{k}", span, head.title, head.marker, tuple(paragraphs), chars)


def split_page(doc: Document, config: SegmentConfig | None = None) -> tuple[list[Speech], list[Dropped]]:
    """Split one page into speeches, and report the lines that are not speech text.

    Args:
        doc: The decoded page.
        config: Segmentation options; defaults when omitted.

    Returns:
        The speeches in page order (ids ``"<file>#1"``, ``"<file>#2"`` …) and the dropped lines
        (snippet, chrome, preamble, footer), each with its span.

    Example:
        >>> from dupspeech.models import Document
        >>> page = "【篇1】在全县会议上的讲话\\n同志们：\\n今天开会。\\n【篇2】在全市会议上的讲话\\n大家好。\\n"
        >>> [s.title for s in split_page(Document("p.txt", page))[0]]
        ['在全县会议上的讲话', '在全市会议上的讲话']
    """
    return _PageSplitter(doc, config or SegmentConfig()).split()
