"""Tests for dupspeech.ingest: files and folders → Document, every file accounted for."""

from __future__ import annotations

import codecs
import os
import random
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dupspeech import ingest
from dupspeech.errors import ConfigError, CorpusError, DupspeechError
from dupspeech.ingest import DecodeFailure, decode_bytes, iter_corpus, read_corpus
from dupspeech.models import Document, FileRecord

SPEECH = "在全市工作会议上的讲话\n同志们：\n今天我们召开会议，主要任务是总结工作、部署任务。\n"
SPEECH_B = "关于加强基层党建工作的几点意见\n一、提高认识，统一思想。\n二、突出重点，狠抓落实。\n"

CANNOT_DECODE = (
    "cannot decode: not UTF-8, GB18030 or another encoding charset-normalizer recognises; "
    "re-save the file as UTF-8"
)


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def only(source, **kwargs) -> tuple[FileRecord, Document | None]:
    pairs = list(iter_corpus(source, **kwargs))
    assert len(pairs) == 1, pairs
    return pairs[0]


def png_bytes(seed: int, *, with_nul: bool = True) -> bytes:
    """PNG signature and IHDR chunk, then seeded random bytes (NUL-free when ``with_nul`` is False)."""
    rng = random.Random(seed)
    low = 0 if with_nul else 1
    body = bytes(rng.randrange(low, 256) for _ in range(2048))
    if not with_nul:
        return b"\x89PNG\r\n\x1a\n" + body
    ihdr = struct.pack(">IIBBBBB", 64, 64, 8, 6, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", len(body)) + b"IDAT" + body


# --- encodings ---------------------------------------------------------------------------------------------


def test_utf8_file(tmp_path: Path) -> None:
    path = write(tmp_path / "speech.txt", SPEECH)
    record, doc = only(tmp_path)
    assert record == FileRecord("speech.txt", "utf-8", "ok", None, len(SPEECH.encode()))
    assert doc is not None
    assert (doc.name, doc.text, doc.encoding, doc.path) == ("speech.txt", SPEECH, "utf-8", str(path))
    assert os.path.isabs(doc.path)


def test_utf8_bom_is_removed(tmp_path: Path) -> None:
    write(tmp_path / "bom.txt", codecs.BOM_UTF8 + SPEECH.encode())
    record, doc = only(tmp_path)
    assert record.encoding == "utf-8-sig"
    assert doc is not None and doc.text == SPEECH and doc.encoding == "utf-8-sig"


def test_only_the_leading_bom_is_removed() -> None:
    text, encoding = decode_bytes(codecs.BOM_UTF8 + "\ufeff同志们".encode())
    assert (text, encoding) == ("\ufeff同志们", "utf-8-sig")


@pytest.mark.parametrize("codec", ["gbk", "gb2312", "gb18030"])
def test_gb_family(tmp_path: Path, codec: str) -> None:
    write(tmp_path / "gb.txt", SPEECH.encode(codec))
    record, doc = only(tmp_path)
    assert record.encoding == "gb18030" and record.status == "ok"
    assert doc is not None and doc.text == SPEECH


def test_gb18030_four_byte_characters() -> None:
    # Neither is in GBK; 𠮷 is a four-byte sequence in GB18030.
    text = SPEECH + "𠮷野家，人名用字“䶮”。"
    assert len("𠮷".encode("gb18030")) == 4
    assert decode_bytes(text.encode("gb18030")) == (text, "gb18030")


@pytest.mark.parametrize(
    ("bom", "codec"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
)
def test_utf16_with_bom(tmp_path: Path, bom: bytes, codec: str) -> None:
    write(tmp_path / "u16.txt", bom + SPEECH.encode(codec))
    record, doc = only(tmp_path)
    assert record.encoding == "utf-16"
    assert doc is not None and doc.text == SPEECH


@pytest.mark.parametrize(
    ("bom", "codec"), [(codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be")]
)
def test_utf32_with_bom(bom: bytes, codec: str) -> None:
    assert decode_bytes(bom + SPEECH.encode(codec)) == (SPEECH, "utf-32")


def test_big5_falls_through_to_charset_normalizer() -> None:
    text = "各位來賓，各位朋友：今天我們在這裡隆重集會，慶祝學校成立一百週年。我們的國家是一個偉大的國家。" * 3
    decoded, encoding = decode_bytes(text.encode("big5"))
    assert decoded == text
    assert encoding == "big5"


def test_crlf_kept_and_offsets_index_the_decoded_text(tmp_path: Path) -> None:
    text = "第一行标题\r\n第二行正文，同志们好。\r\n\r\n第四行结束。\r\n"
    for name, data in [("a.txt", text.encode("utf-8")), ("b.txt", text.encode("gb18030"))]:
        write(tmp_path / name, data)
    docs, records = read_corpus(tmp_path)
    assert [r.encoding for r in records] == ["utf-8", "gb18030"]
    for doc in docs:
        assert doc.text == text
        start = doc.text.index("第二行")
        assert start == len("第一行标题\r\n")
        assert doc.line_of(start) == 2
        s, e = doc.line_span(2)
        assert doc.text[s:e] == "第二行正文，同志们好。"
        assert doc.lines() == ["第一行标题", "第二行正文，同志们好。", "", "第四行结束。"]


def _line_starts_by_hand(text: str) -> tuple[int, ...]:
    starts, i = [0], 0
    while i < len(text):
        if text[i] == "\r" and text[i + 1 : i + 2] == "\n":
            i += 1
        if text[i] in "\r\n":
            starts.append(i + 1)
        i += 1
    return tuple(starts)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="a中\r\n", max_size=40))
def test_line_starts_after_every_kind_of_line_break(text: str) -> None:
    # LF, CRLF and lone CR, mixed or not; a final break opens an empty last line
    assert Document("p.txt", text).line_starts == _line_starts_by_hand(text)


# --- skipped files -----------------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    write(tmp_path / "empty.txt", b"")
    record, doc = only(tmp_path)
    assert doc is None
    assert (record.status, record.reason, record.size) == ("skipped", "empty file", 0)


@pytest.mark.parametrize("data", [" \r\n\t\n".encode(), "\u3000\u3000\n".encode("gbk"), codecs.BOM_UTF8])
def test_whitespace_only_file_is_empty(tmp_path: Path, data: bytes) -> None:
    write(tmp_path / "blank.txt", data)
    record, doc = only(tmp_path)
    assert doc is None
    assert (record.status, record.reason, record.size) == ("skipped", "empty file", len(data))


def test_binary_with_nul_bytes(tmp_path: Path) -> None:
    write(tmp_path / "data.txt", "同志们".encode("gbk") + b"\x00\x01\x02\x00" + "你好".encode("gbk"))
    record, doc = only(tmp_path)
    assert doc is None
    assert record.reason == "binary file (contains NUL bytes)"
    assert record.encoding is None


def test_valid_utf8_full_of_control_characters_is_binary() -> None:
    with pytest.raises(DecodeFailure, match=r"^binary file \(\d+% control characters\)$"):
        decode_bytes(b"ab\x1b\x1b\x07\x07\x01\x02cd")
    with pytest.raises(DecodeFailure, match=r"^binary file \(contains NUL bytes\)$"):
        decode_bytes(b"ab\x00\x00\x00\x00\x01\x02cd")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("with_nul", [True, False])
def test_png_renamed_txt_is_binary(tmp_path: Path, seed: int, with_nul: bool) -> None:
    data = png_bytes(seed, with_nul=with_nul)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    write(tmp_path / "picture.txt", data)
    record, doc = only(tmp_path)
    assert doc is None
    assert record.reason is not None and record.reason.startswith("binary file ("), record.reason
    assert record.size == len(data)


def test_undecodable_bytes(tmp_path: Path) -> None:
    write(tmp_path / "odd.txt", bytes(range(0x80, 0x100)) * 3)
    record, doc = only(tmp_path)
    assert doc is None
    assert record.reason == CANNOT_DECODE


def test_damaged_utf8_is_not_read_as_gb18030_mojibake() -> None:
    data = (SPEECH * 3).encode("utf-8")[:-2]  # a truncated file: its last character is cut in two
    with pytest.raises(DecodeFailure, match=r"UTF-8 apart from 2 invalid bytes \(the first at byte \d+\)"):
        decode_bytes(data)


def test_large_files_damaged_utf8_and_gbk() -> None:
    big = SPEECH * 3000  # past the head that decode_bytes looks at first
    assert len(big.encode()) > 100_000
    with pytest.raises(DecodeFailure, match="UTF-8 apart from 1 invalid byte "):
        decode_bytes(big.encode()[:-1] + b"\xff")
    assert decode_bytes(big.encode("gbk")) == (big, "gb18030")


def test_corrupt_bom_file() -> None:
    with pytest.raises(DecodeFailure, match="byte-order mark"):
        decode_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8")  # a lone high surrogate


def test_decode_failure_is_a_dupspeech_error() -> None:
    with pytest.raises(DupspeechError) as info:
        decode_bytes(b"\x00\x00\xff")
    assert isinstance(info.value, ValueError)
    assert info.value.reason == "binary file (contains NUL bytes)"


def test_unsupported_extension(tmp_path: Path) -> None:
    write(tmp_path / "report.pdf", b"%PDF-1.7\n")
    write(tmp_path / "README", SPEECH)
    write(tmp_path / "SHOUT.TXT", SPEECH)
    write(tmp_path / "notes.Md", SPEECH)
    records = {r.file: r for r, _ in iter_corpus(tmp_path)}
    assert records["report.pdf"].reason == "not a text page (.pdf); dupspeech reads .txt, .md"
    assert records["report.pdf"].size == len(b"%PDF-1.7\n")
    assert records["README"].reason == "not a text page (no file ending); dupspeech reads .txt, .md"
    assert records["SHOUT.TXT"].status == "ok"
    assert records["notes.Md"].status == "ok"


def test_custom_extensions(tmp_path: Path) -> None:
    write(tmp_path / "a.text", SPEECH)
    write(tmp_path / "b.txt", SPEECH)
    records = [r for r, _ in iter_corpus(tmp_path, extensions=["TEXT"])]
    assert [(r.file, r.status) for r in records] == [("a.text", "ok"), ("b.txt", "skipped")]
    assert records[1].reason == "not a text page (.txt); dupspeech reads .text"


def test_hidden_folder_and_file(tmp_path: Path) -> None:
    write(tmp_path / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(tmp_path / ".git" / "objects" / "ab.txt", SPEECH)
    write(tmp_path / "sub" / ".cache" / "x.txt", SPEECH)
    write(tmp_path / ".notes.txt", SPEECH)
    write(tmp_path / "sub" / "speech.txt", SPEECH)
    got = [(r.file, r.status, r.reason) for r, _ in iter_corpus(tmp_path)]
    assert got == [
        (".git/", "skipped", "hidden folder not read"),
        (".notes.txt", "skipped", "hidden file not read"),
        ("sub/.cache/", "skipped", "hidden folder not read"),
        ("sub/speech.txt", "ok", None),
    ]


def test_too_large(tmp_path: Path) -> None:
    write(tmp_path / "big.txt", SPEECH)
    size = len(SPEECH.encode())
    record, doc = only(tmp_path, max_bytes=20)
    assert doc is None
    assert record.size == size
    assert record.reason is not None
    assert f"{size:,} bytes" in record.reason and "20 bytes" in record.reason and "max_bytes" in record.reason
    assert only(tmp_path, max_bytes=size)[0].status == "ok"


def test_unreadable_file_gets_the_os_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "locked.txt", SPEECH)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(ingest, "open", refuse, raising=False)
    record, doc = only(tmp_path)
    assert doc is None
    assert record.reason == "cannot read: Permission denied"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_on_disk(tmp_path: Path) -> None:
    path = write(tmp_path / "locked.txt", SPEECH)
    path.chmod(0)
    try:
        record, _ = only(tmp_path)
    finally:
        path.chmod(0o644)
    assert record.reason is not None and record.reason.startswith("cannot read: ")


# --- links -------------------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_links(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    outside = write(tmp_path / "elsewhere" / "real.txt", SPEECH)
    write(corpus / "dir" / "in.txt", SPEECH_B)
    (corpus / "to_file.txt").symlink_to(outside)
    (corpus / "broken.txt").symlink_to(tmp_path / "missing.txt")
    (corpus / "to_dir").symlink_to(corpus / "dir", target_is_directory=True)
    got = {r.file: r for r, _ in iter_corpus(corpus)}
    docs = {d.name: d for d in read_corpus(corpus)[0]}
    assert got["to_file.txt"].status == "ok"
    assert docs["to_file.txt"].text == SPEECH
    assert docs["to_file.txt"].path == str(corpus / "to_file.txt")
    assert got["broken.txt"].reason is not None and got["broken.txt"].reason.startswith("broken link to ")
    assert got["to_dir/"].reason is not None and "not followed" in got["to_dir/"].reason
    assert sorted(got) == ["broken.txt", "dir/in.txt", "to_dir/", "to_file.txt"]


# --- order and accounting ----------------------------------------------------------------------------------


def test_nested_folders_sorted_with_slash_names(tmp_path: Path) -> None:
    for rel in ["b/z.txt", "a.txt", "a/b.txt", "a/c/d.txt", "B.txt", "中文/讲话.txt", "a b/x.txt"]:
        write(tmp_path / rel, SPEECH)
    docs, records = read_corpus(tmp_path)
    names = [r.file for r in records]
    assert names == sorted(names)
    assert names == ["B.txt", "a b/x.txt", "a.txt", "a/b.txt", "a/c/d.txt", "b/z.txt", "中文/讲话.txt"]
    assert [d.name for d in docs] == names
    assert all(d.path == str(tmp_path.joinpath(*d.name.split("/"))) for d in docs)


def test_order_is_deterministic(tmp_path: Path) -> None:
    for i in range(30):
        write(tmp_path / f"d{i % 4}" / f"f{i}.txt", SPEECH + str(i))
    first = list(iter_corpus(tmp_path))
    assert first == list(iter_corpus(tmp_path))


def test_every_file_on_disk_is_accounted_for_exactly_once(tmp_path: Path) -> None:
    files = {
        "a.txt": SPEECH,
        "b.md": SPEECH_B.encode("gbk"),
        "c.pdf": b"%PDF",
        "empty.txt": b"",
        "bin.txt": png_bytes(7),
        "odd.txt": bytes(range(0x80, 0x100)),
        ".hidden.txt": SPEECH,
        "x/y/z.txt": SPEECH,
        "x/y/z.doc": b"\xd0\xcf\x11\xe0",
        "x/.svn/entries": b"12",
        "x/.svn/deep/more.txt": SPEECH,
        ".venv/lib/site.txt": SPEECH,
        "长文件名/第一篇.txt": SPEECH.encode("utf-16"),
    }
    for rel, data in files.items():
        write(tmp_path / rel, data)
    (tmp_path / "empty_dir").mkdir()

    expected: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(tmp_path):
        rel_dir = Path(dirpath).relative_to(tmp_path).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        for d in list(dirnames):
            if d.startswith("."):
                expected.add(prefix + d + "/")
                dirnames.remove(d)
        expected.update(prefix + f for f in filenames)

    records = [r for r, _ in iter_corpus(tmp_path)]
    names = [r.file for r in records]
    assert len(names) == len(set(names)), "a file was reported twice"
    assert set(names) == expected
    assert names == sorted(names)
    ok = {r.file for r in records if r.status == "ok"}
    assert ok == {"a.txt", "b.md", "x/y/z.txt", "长文件名/第一篇.txt"}
    assert all(r.reason for r in records if r.status == "skipped")
    assert all(r.reason is None and r.encoding for r in records if r.status == "ok")


def test_empty_folder_yields_nothing(tmp_path: Path) -> None:
    assert list(iter_corpus(tmp_path)) == []
    assert read_corpus(tmp_path) == ([], [])


# --- sources -----------------------------------------------------------------------------------------------


def test_single_file_source(tmp_path: Path) -> None:
    path = write(tmp_path / "deep" / "one.txt", SPEECH.encode("gbk"))
    for source in (path, str(path)):
        record, doc = only(source)
        assert record.file == "one.txt" and record.encoding == "gb18030"
        assert doc is not None and doc.name == "one.txt" and doc.path == str(path) and doc.text == SPEECH


def test_single_file_source_with_other_extension_is_skipped(tmp_path: Path) -> None:
    record, doc = only(write(tmp_path / "scan.pdf", b"%PDF"))
    assert doc is None and record.reason == "not a text page (.pdf); dupspeech reads .txt, .md"


def test_relative_folder_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "corpus" / "a.txt", SPEECH)
    monkeypatch.chdir(tmp_path)
    (doc,), _ = read_corpus("corpus")
    assert doc.name == "a.txt" and doc.path == str(tmp_path / "corpus" / "a.txt")


def test_pairs_keep_their_order() -> None:
    docs, records = read_corpus([("z", SPEECH), ("a", SPEECH_B), ("m", "  \n")])
    assert [r.file for r in records] == ["z", "a", "m"]
    assert [(r.status, r.encoding, r.reason) for r in records] == [
        ("ok", "str", None),
        ("ok", "str", None),
        ("skipped", "str", "empty file"),
    ]
    assert [(d.name, d.text, d.encoding, d.path) for d in docs] == [
        ("z", SPEECH, "str", None),
        ("a", SPEECH_B, "str", None),
    ]
    assert records[0].size == len(SPEECH.encode())


def test_dict_source_and_generator_source() -> None:
    source = {"第二篇": SPEECH_B, "第一篇": SPEECH}
    docs, _ = read_corpus(source)
    assert [d.name for d in docs] == ["第二篇", "第一篇"]
    docs_gen, _ = read_corpus((k, v) for k, v in source.items())
    assert docs_gen == docs


def test_bytes_in_iterable_are_decoded() -> None:
    items = [
        ("gbk", SPEECH.encode("gbk")),
        ("u16", SPEECH.encode("utf-16")),
        ("bin", b"\x00\x01"),
        ("blank", b""),
        ("view", memoryview(SPEECH.encode())),
    ]
    got = list(iter_corpus(items))
    assert [(r.file, r.status, r.encoding) for r, _ in got] == [
        ("gbk", "ok", "gb18030"),
        ("u16", "ok", "utf-16"),
        ("bin", "skipped", None),
        ("blank", "skipped", None),
        ("view", "ok", "utf-8"),
    ]
    assert got[2][0].reason == "binary file (contains NUL bytes)"
    assert got[3][0].reason == "empty file"
    assert all(doc.text == SPEECH for _, doc in got if doc is not None)


def test_leading_bom_removed_from_given_text() -> None:
    (doc,), _ = read_corpus([("a", "\ufeff" + SPEECH)])
    assert doc.text == SPEECH


def test_duplicate_names_are_skipped_not_merged() -> None:
    _, records = read_corpus([("a", SPEECH), ("a", SPEECH_B)])
    assert [r.status for r in records] == ["ok", "skipped"]
    assert records[1].reason is not None and "duplicate name" in records[1].reason


def test_oversized_text_from_python() -> None:
    _, records = read_corpus([("a", SPEECH), ("b", SPEECH.encode())], max_bytes=10)
    assert [r.status for r in records] == ["skipped", "skipped"]
    assert all(r.reason is not None and "max_bytes" in r.reason for r in records)


@pytest.mark.parametrize(
    "source", [["a.txt", "b.txt"], [("a", 1)], [(1, "text")], [("a", "b", "c")], 42, b"bytes"]
)
def test_bad_sources(source) -> None:
    with pytest.raises(ConfigError):
        list(iter_corpus(source))


def test_missing_path_raises_corpus_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(CorpusError, match="no such file or folder: .*nope; give a folder of .txt/.md pages"):
        iter_corpus(missing)  # raised at the call, before iterating
    with pytest.raises(CorpusError):
        read_corpus(str(missing))


def test_text_passed_as_path_gets_a_hint() -> None:
    with pytest.raises(CorpusError, match=r"give \[\(name, text\), \.\.\.\]"):
        iter_corpus("同志们：\n今天我们召开会议。")


@pytest.mark.parametrize(
    "kwargs", [{"max_bytes": 0}, {"max_bytes": 1.5}, {"extensions": ()}, {"extensions": [""]}]
)
def test_bad_options(tmp_path: Path, kwargs) -> None:
    with pytest.raises(ConfigError):
        iter_corpus(tmp_path, **kwargs)


# --- properties --------------------------------------------------------------------------------------------

_CHINESE_ASCII = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from("\n\r\t，。！？；：“”‘’、（）《》…—\u3000"),
    ),
    max_size=200,
)


@settings(max_examples=200, deadline=None)
@given(text=_CHINESE_ASCII, codec=st.sampled_from(["utf-8", "gb18030", "utf-16"]))
def test_decode_round_trip(text: str, codec: str) -> None:
    data = text.encode(codec)
    if codec == "gb18030":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # Also valid UTF-8 (pure ASCII, or a rare byte coincidence): UTF-8 wins by design.
            assert decode_bytes(data) == (data.decode("utf-8"), "utf-8")
            return
    decoded, encoding = decode_bytes(data)
    assert decoded == text
    assert encoding == codec


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=300))
def test_decode_bytes_never_crashes(data: bytes) -> None:
    try:
        text, encoding = decode_bytes(data)
    except DecodeFailure as exc:
        assert exc.reason
    else:
        assert isinstance(text, str) and encoding == encoding.lower()


def test_control_bytes_are_the_ascii_controls_the_expression_matches():
    from dupspeech import ingest

    assert set(ingest._CONTROL_BYTES) == {c for c in range(0x80) if ingest._CONTROL_RE.match(chr(c))}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["同志们", "好", "\n", "\r\n", "\t", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f",
                                 "\xa0", "·", "\ufffd", "a", "😀", "\x0c"]), max_size=30).map("".join)
       | st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_control_share_from_utf8_bytes_is_the_share_the_expression_gives(text):
    from dupspeech import ingest

    want = ingest._share(ingest._CONTROL_RE, text)
    assert ingest._control_share(text, text.encode("utf-8")) == want == ingest._control_share(text)
