"""A :class:`~dupspeech.models.Result` as HTML: a self-contained report page, and compact notebook views.

The page needs no network: CSS is inline, there is no script, and a Content-Security-Policy forbids loading
anything. Every string taken from the corpus (text, titles, file names, evidence) goes through
:func:`html.escape`, so a page containing ``<script>`` shows it as text.

What the page shows:

* an overview: files read and skipped, speeches, and every family with its size, titles and files;
* for each pair of speeches that share passages, the two speeches side by side with line numbers, each copied
  passage highlighted as a ``<mark>``. The source side of copy ``n`` (its position in ``Result.copies``) is
  ``id="s-n"`` and links to ``#t-n``, the target side is ``id="t-n"`` and links back. The background colour
  grows with the passage's similarity; boilerplate (stock language) is underlined with grey dots instead.

Large corpora: at most ``max_pairs`` speech pairs are drawn, those with the most copied text first, and the page
says how many were left out (all of them are in ``result.json`` and ``copies.csv``).

    >>> import dupspeech
    >>> body = "今天我们召开全镇防汛工作会议，安排部署今年汛期的各项准备工作，请各村认真抓好落实。"
    >>> r = dupspeech.cluster({"a.txt": "甲镇的讲话\\n" + body, "b.txt": "乙镇的讲话\\n" + body}, min_shingles=5)
    >>> page = report(r)
    >>> 'id="s-0"' in page and 'href="#t-0"' in page
    True
"""

from __future__ import annotations

import html
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

from .models import Copy, Document, Pair, Result, Speech

MAX_PAIRS = 200
"""Speech pairs drawn side by side in the report page."""

NOTEBOOK_PAIRS = 5
"""Speech pairs drawn side by side in a notebook cell."""

NOTEBOOK_FAMILIES = 20
"""Families listed in a notebook cell."""

_SCALE = ((0.9, "q5"), (0.8, "q4"), (0.7, "q3"), (0.6, "q2"), (0.0, "q1"))
_SCALE_LABELS = {"q5": "≥ 0.9", "q4": "0.8–0.9", "q3": "0.7–0.8", "q2": "0.6–0.7", "q1": "< 0.6"}

CSS = """
.ds{font-family:"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC",
"WenQuanYi Micro Hei",system-ui,sans-serif;color:#222;line-height:1.7}
.ds h1{font-size:1.5em;margin:.4em 0}.ds h2{font-size:1.2em;margin:1.2em 0 .4em}
.ds h3{font-size:1em;margin:1.6em 0 .3em}
.ds table.ov{border-collapse:collapse;margin:.5em 0}
.ds table.ov th,.ds table.ov td{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
.ds table.ov th{background:#f4f4f4}
.ds .note{color:#666;font-size:.9em}
.ds .pair{display:grid;grid-template-columns:1fr 1fr;gap:1em;align-items:start}
.ds .side{border:1px solid #ddd;border-radius:4px;min-width:0}
.ds .head{background:#f6f6f6;padding:.3em .6em;border-bottom:1px solid #ddd;font-size:.9em;overflow-wrap:anywhere}
.ds .txt{padding:.4em .6em .4em 0;font-size:15px}
.ds .l{position:relative;padding-left:3.4em;white-space:pre-wrap;overflow-wrap:anywhere;min-height:1.7em}
.ds .l::before{content:attr(data-n);position:absolute;left:0;width:2.8em;text-align:right;color:#aaa;
font-size:12px;user-select:none}
.ds mark{color:inherit;padding:0 1px;border-radius:2px}
.ds mark a{color:inherit;text-decoration:none}
.ds mark:target{outline:2px solid #c00}
.ds .q1{background:#fff7cc}.ds .q2{background:#ffeaa0}.ds .q3{background:#ffd58a}
.ds .q4{background:#ffbf8a}.ds .q5{background:#ffa69a}
.ds mark.bp{background:#f3f3f3;color:#555;border-bottom:2px dotted #888;border-radius:0}
.ds .key mark{margin-right:.6em}
.ds details{margin:.5em 0}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_notebook_ids = itertools.count(1)


def _e(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape(str(value), quote=True)


def _scale(similarity: float) -> str:
    return next(cls for low, cls in _SCALE if similarity >= low)


def _chars(c: Copy) -> int:
    return max(c.source.end_char - c.source.start_char, c.target.end_char - c.target.start_char)


@dataclass(slots=True)
class PairView:
    """Two speeches and everything found between them; ``left`` holds the sources of the copies."""

    left: str
    right: str
    copies: list[int] = field(default_factory=list)
    verified: Pair | None = None

    def weight(self, copies: tuple[Copy, ...]) -> tuple[int, int]:
        own = [copies[n] for n in self.copies]
        return (sum(_chars(c) for c in own if not c.boilerplate), sum(_chars(c) for c in own))


def pair_views(result: Result) -> list[PairView]:
    """The speech pairs worth drawing, most copied text first: every pair with a copy, and every verified pair."""
    views: dict[frozenset[str], PairView] = {}
    for n, c in enumerate(result.copies):
        key = frozenset((c.source.speech, c.target.speech))
        view = views.get(key)
        if view is None:
            view = views[key] = PairView(c.source.speech, c.target.speech)
        view.copies.append(n)
    for p in result.pairs:
        key = frozenset((p.a, p.b))
        if key not in views:
            views[key] = PairView(p.a, p.b)
        views[key].verified = p
    position = {s.id: k for k, s in enumerate(result.speeches)}
    return sorted(
        views.values(),
        key=lambda v: (*(-w for w in v.weight(result.copies)), position.get(v.left, 0), position.get(v.right, 0)),
    )


@dataclass(frozen=True, slots=True)
class _Mark:
    start: int
    end: int
    id: str
    href: str
    cls: str
    title: str


def _marks_for(speech: Speech, view: PairView, result: Result, prefix: str) -> list[_Mark]:
    marks = []
    for n in view.copies:
        c = result.copies[n]
        for here, there, mine, theirs, verb in (
            (c.source, c.target, "s", "t", "copied to"),
            (c.target, c.source, "t", "s", "copied from" if c.direction == "source_earlier" else "shared with"),
        ):
            if here.speech != speech.id:
                continue
            title = f"#{n} {verb} {there.speech} L{there.start_line}-{there.end_line} · similarity {c.similarity:.2f}"
            if c.boilerplate:
                title += " · boilerplate (stock language)"
            cls = "bp" if c.boilerplate else _scale(c.similarity)
            marks.append(_Mark(here.start_char, here.end_char, f"{prefix}{mine}-{n}", f"#{prefix}{theirs}-{n}", cls,
                               title))
            break
    marks.sort(key=lambda m: (m.start, -m.end))
    # passages of one pair do not overlap on the source side; clip any overlap on the other so marks never nest
    clipped: list[_Mark] = []
    end = -1
    for m in marks:
        start = max(m.start, end)
        clipped.append(_Mark(start, max(start, m.end), m.id, m.href, m.cls, m.title))
        end = max(end, m.end)
    return clipped


def _open_mark(m: _Mark, with_id: bool) -> str:
    ident = f' id="{_e(m.id)}"' if with_id else ""
    return f'<mark class="{m.cls}"{ident} title="{_e(m.title)}"><a href="{_e(m.href)}">'


def speech_lines(doc: Document, speech: Speech, marks: list[_Mark]) -> str:
    """The speech's lines as ``<div class="l" data-n="LINE">``, the marks cut at line ends (id on the first piece)."""
    text = doc.text
    lo, hi = speech.span.start, speech.span.end
    out: list[str] = []
    placed: set[str] = set()
    k = 0
    for line in range(speech.span.start_line, speech.span.end_line + 1):
        ls, le = doc.line_span(line)
        ls, le = max(ls, lo), min(le, hi)
        le = max(le, ls)
        parts = [f'<div class="l" data-n="{line}">']
        while k < len(marks) and marks[k].end <= ls:
            if marks[k].id not in placed:  # a mark lying in line breaks only: keep its anchor
                parts.append(_open_mark(marks[k], True) + "</a></mark>")
                placed.add(marks[k].id)
            k += 1
        pos = ls
        j = k
        while j < len(marks) and marks[j].start < le:
            m = marks[j]
            a, b = max(m.start, pos), min(m.end, le)
            parts.append(_e(text[pos:a]))
            if b > a or m.id not in placed:
                parts.append(_open_mark(m, m.id not in placed) + _e(text[a:b]) + "</a></mark>")
                placed.add(m.id)
            pos = max(pos, b)
            j += 1
        parts.append(_e(text[pos:le]) + "</div>")
        out.append("".join(parts))
    rest = "".join(_open_mark(m, True) + "</a></mark>" for m in marks if m.id not in placed)
    if rest:
        out.append(f'<div class="l">{rest}</div>')
    return "\n".join(out)


def _side(result: Result, docs: dict[str, Document], by_id: dict[str, Speech], speech_id: str, view: PairView,
          prefix: str) -> str:
    speech = by_id.get(speech_id)
    if speech is None:
        return f'<div class="side"><div class="head">{_e(speech_id)}</div></div>'
    head = (
        f'<div class="head"><b>{_e(speech.id)}</b> · lines {speech.span.start_line}–{speech.span.end_line} · '
        f"{speech.chars} chars<br>{_e(speech.title) or '<i>(no title)</i>'}</div>"
    )
    doc = docs.get(speech.file)
    if doc is None:
        body = '<p class="note">text not available: this result holds no documents</p>'
    else:
        body = speech_lines(doc, speech, _marks_for(speech, view, result, prefix))
    return f'<div class="side">{head}<div class="txt">{body}</div></div>'


def _pair_section(result: Result, docs: dict[str, Document], by_id: dict[str, Speech], view: PairView, k: int,
                  family: dict[str, int], prefix: str) -> str:
    copies = [result.copies[n] for n in view.copies]
    fa, fb = family.get(view.left), family.get(view.right)
    where = f"family {fa}" if fa is not None and fa == fb else "not in one family"
    facts = [where]
    if view.verified is not None:
        p = view.verified
        facts.append(f"{p.relation.replace('_', '-')}, Jaccard {p.jaccard:.2f}, containment "
                     f"{p.containment_a_in_b:.2f} / {p.containment_b_in_a:.2f}")
    copied = [c for c in copies if not c.boilerplate]
    facts.append(f"{len(copied)} copied passages ({sum(_chars(c) for c in copied)} chars)")
    if len(copied) < len(copies):
        facts.append(f"{len(copies) - len(copied)} boilerplate")
    evidence = next((c.evidence for c in copies if c.direction == "source_earlier"), "")
    arrow = "→" if evidence else "↔"
    direction = f"left is earlier ({_e(evidence)})" if evidence else "which is earlier is undetermined"
    return (
        f'<section id="{prefix}pair-{k}"><h3>{_e(view.left)} {arrow} {_e(view.right)}</h3>'
        f'<p class="note">{_e(" · ".join(facts))} · {direction}</p>'
        f'<div class="pair">{_side(result, docs, by_id, view.left, view, prefix)}'
        f"{_side(result, docs, by_id, view.right, view, prefix)}</div></section>"
    )


def _key() -> str:
    cells = "".join(f'<mark class="{cls}">{_e(label)}</mark>' for cls, label in sorted(_SCALE_LABELS.items()))
    return (
        f'<p class="key note">similarity: {cells}<mark class="bp">boilerplate (stock language)</mark> '
        "— click a highlight to jump to its counterpart</p>"
    )


def _summary(result: Result) -> str:
    ok = sum(1 for f in result.files if f.status == "ok")
    skipped = [f for f in result.files if f.status != "ok"]
    copied = sum(1 for c in result.copies if not c.boilerplate)
    text = (
        f"{len(result.files)} files ({ok} read, {len(skipped)} skipped) · {len(result.speeches)} speeches · "
        f"{len(result.clusters)} families · {len(result.pairs)} verified pairs · {copied} copied passages · "
        f"{len(result.copies) - copied} boilerplate passages"
    )
    out = f"<p>{_e(text)}</p>"
    if skipped:
        items = "".join(f"<li>{_e(f.file)}: {_e(f.reason or '')}</li>" for f in skipped)
        out += f"<details><summary>{len(skipped)} skipped files</summary><ul>{items}</ul></details>"
    return out


def _families(result: Result, by_id: dict[str, Speech], sections: dict[int, list[int]], limit: int | None,
              prefix: str) -> str:
    """The families table; ``sections`` maps a family to the pair sections drawn inside it."""
    if not result.clusters:
        return '<p class="note">No recycled families.</p>'
    ranked = sorted(result.clusters, key=lambda c: (-len(c.speeches), c.id))
    shown = ranked if limit is None else ranked[:limit]
    rows = []
    for c in shown:
        members = [by_id[sid] for sid in c.speeches if sid in by_id]
        titles = "<br>".join(_e(t) for t in dict.fromkeys(s.title for s in members if s.title))
        files = "<br>".join(_e(f) for f in dict.fromkeys(s.file for s in members))
        speeches = "<br>".join(
            f"{_e(s.id)} <span class=\"note\">L{s.span.start_line}–{s.span.end_line}"
            f"{' · truncated copy' if s.id in c.contained else ''}</span>"
            for s in members
        )
        pairs = " ".join(f'<a href="#{prefix}pair-{k}">{k}</a>' for k in sections.get(c.id, [])[:30])
        rows.append(
            f'<tr id="{prefix}family-{c.id}"><td>{c.id}</td><td>{len(c.speeches)}</td><td>{titles}</td>'
            f"<td>{files}</td><td>{speeches}</td><td>{pairs}</td></tr>"
        )
    more = f'<p class="note">… and {len(ranked) - len(shown)} more families</p>' if len(shown) < len(ranked) else ""
    return (
        '<table class="ov"><tr><th>family</th><th>size</th><th>titles</th><th>files</th><th>speeches</th>'
        f"<th>pairs below</th></tr>{''.join(rows)}</table>{more}"
    )


def _speech_table(result: Result, limit: int | None) -> str:
    shown = result.speeches if limit is None else result.speeches[:limit]
    rows = "".join(
        f"<tr><td>{_e(s.id)}</td><td>{s.span.start_line}–{s.span.end_line}</td><td>{_e(s.marker or '')}</td>"
        f"<td>{_e(s.title)}</td><td>{s.chars}</td></tr>"
        for s in shown
    )
    more = len(result.speeches) - len(shown)
    return (
        '<table class="ov"><tr><th>speech</th><th>lines</th><th>marker</th><th>title</th><th>chars</th></tr>'
        f"{rows}</table>" + (f'<p class="note">… and {more} more speeches</p>' if more else "")
    )


def _body(result: Result, *, max_pairs: int, max_families: int | None, prefix: str, heading: str,
          rest: str) -> str:
    docs = {d.name: d for d in result.documents}
    by_id = {s.id: s for s in result.speeches}
    views = pair_views(result)
    shown = views[:max_pairs]
    family = {sid: c.id for c in result.clusters for sid in c.speeches}
    sections: dict[int, list[int]] = {}
    for k, v in enumerate(shown):
        if v.left in family and family[v.left] == family.get(v.right):
            sections.setdefault(family[v.left], []).append(k)
    parts = [_summary(result), _key()]
    if result.clusters or views:
        parts.append(f"<{heading}>Families</{heading}>")
        parts.append(_families(result, by_id, sections, max_families, prefix))
    else:
        parts.append(f"<{heading}>Speeches</{heading}>")
        parts.append(_speech_table(result, None if max_families is None else 50))
    if views:
        parts.append(f"<{heading}>Speeches side by side</{heading}>")
        if len(shown) < len(views):
            parts.append(
                f'<p class="note">Showing the {len(shown)} speech pairs with the most copied text out of '
                f"{len(views)}; {rest}.</p>"
            )
        parts.extend(_pair_section(result, docs, by_id, v, k, family, prefix) for k, v in enumerate(shown))
    return "\n".join(parts)


def report(result: Result, *, max_pairs: int = MAX_PAIRS, title: str = "dupspeech report") -> str:
    """The whole report as one self-contained HTML page (UTF-8, no scripts, no external resources).

    Args:
        result: A result of :func:`dupspeech.cluster` or :func:`dupspeech.compare` (it must hold its documents
            for the text to show).
        max_pairs: Most speech pairs drawn side by side, the ones with the most copied text first.
        title: The page title.
    """
    body = _body(result, max_pairs=max_pairs, max_families=None, prefix="", heading="h2",
                 rest="every pair and passage is in result.json and copies.csv")
    settings = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in result.settings)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}body{{margin:1em 2em}}</style>\n</head>\n"
        f'<body class="ds">\n<h1>{_e(title)}</h1>\n{body}\n'
        + (f'<details><summary>settings</summary><table class="ov">{settings}</table></details>\n' if settings else "")
        + "</body>\n</html>\n"
    )


def write_report(result: Result, path: str | os.PathLike[str], *, max_pairs: int = MAX_PAIRS) -> Path:
    """Write :func:`report` to ``path`` (UTF-8); returns the path."""
    path = Path(path)
    path.write_text(report(result, max_pairs=max_pairs), encoding="utf-8")
    return path


def result_html(result: Result, *, max_pairs: int = NOTEBOOK_PAIRS, max_families: int = NOTEBOOK_FAMILIES) -> str:
    """A compact view for Jupyter (``Result._repr_html_``): summary, families, the first pairs side by side.

    Ids get a per-view prefix so two views in one notebook do not link into each other.
    """
    prefix = f"ds{next(_notebook_ids)}-"
    body = _body(result, max_pairs=max_pairs, max_families=max_families, prefix=prefix, heading="h4",
                 rest="see result.family(id), result.to_pandas() or dupspeech.html.write_report()")
    return f'<div class="ds"><style>{CSS}</style>{body}</div>'

