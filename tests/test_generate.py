"""The benchmark generator: truth matches the pages, output is deterministic, both text sources work."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402
from benchmarks.generate import check_truth, generate_corpus  # noqa: E402
from benchmarks.pan import cases_from_truth, evaluate  # noqa: E402

FAMILIES = 5


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def no_gov_reports(tmp_path, monkeypatch):
    monkeypatch.setattr(generate, "GOV_REPORTS_DIR", tmp_path / "missing" / "gov_reports")


def check_shape(truth: dict, out: Path) -> None:
    assert set(truth) >= {"seed", "speeches", "families", "copies", "boilerplate"}
    roles = {s["role"] for s in truth["speeches"]}
    assert {"source", "copy"} <= roles and "stitched" in roles and "unrelated" in roles
    assert len(truth["families"]) == FAMILIES
    assert {c["kind"] for c in truth["copies"]} == {"family", "borrowed"}
    for s in truth["speeches"]:
        assert s["id"] == f"{s['file']}#{s['id'].rsplit('#', 1)[1]}"
        assert (out / s["file"]).is_file()
    summary = check_truth(out)
    assert summary["speeches"] == len(truth["speeches"])
    # The truth scores perfectly against itself, and a detector that finds nothing scores 0.
    cases = cases_from_truth(out)
    assert evaluate(cases, cases).plagdet == 1
    assert evaluate(cases, []).recall == 0


def test_builtin_text_when_gov_reports_are_missing(tmp_path, no_gov_reports):
    truth = generate_corpus(tmp_path / "out", seed=0, families=FAMILIES)
    assert truth["text_source"] == "builtin"
    check_shape(truth, tmp_path / "out")


def test_gov_reports_text(tmp_path, gov_dir):
    truth = generate_corpus(tmp_path / "out", seed=0, families=FAMILIES, gov_reports_dir=gov_dir)
    assert truth["text_source"] == "gov_reports"
    check_shape(truth, tmp_path / "out")
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in (tmp_path / "out").rglob("*.txt"))
    assert "本作品" not in text and "Public domain" not in text  # licence footer stripped


@pytest.mark.parametrize("use_gov", [True, False], ids=["gov_reports", "builtin"])
def test_same_seed_same_bytes_other_seed_differs(tmp_path, use_gov, request):
    gov = request.getfixturevalue("gov_dir") if use_gov else None

    def run(out: Path, seed: int) -> dict[str, bytes]:
        generate_corpus(out, seed=seed, families=FAMILIES, gov_reports_dir=gov, use_gov_reports=use_gov)
        return files_of(out)

    first = run(tmp_path / "a", 0)
    again = run(tmp_path / "b", 0)
    other = run(tmp_path / "c", 1)
    assert first == again
    assert first != other
    assert json.loads(first["truth.json"])["seed"] == 0


def test_varied_page_forms(tmp_path, no_gov_reports):
    """Over a few seeds the renderer uses every marker style, CRLF and GB18030."""
    newlines, encodings, markers = set(), set(), set()
    for seed in range(6):
        out = tmp_path / str(seed)
        truth = generate_corpus(out, seed=seed, families=8)
        check_truth(out)
        newlines |= {f["newline"] for f in truth["files"]}
        encodings |= {f["encoding"] for f in truth["files"]}
        for f in truth["files"]:
            text = (out / f["file"]).read_bytes().decode(f["encoding"])
            for name, probe in (("bracket", "【篇"), ("bracket_di", "【第"), ("di", "篇："), ("fanwen", "范文1"),
                                ("suffix", "篇一\n"), ("snippet", "...")):
                if probe in text.replace("\r\n", "\n"):
                    markers.add(name)
    assert newlines == {"\n", "\r\n"}
    assert encodings == {"utf-8", "gb18030"}
    assert markers >= {"bracket", "bracket_di", "di", "fanwen", "suffix", "snippet"}


def test_size_target(tmp_path, no_gov_reports):
    truth = generate_corpus(tmp_path / "out", seed=3, size="60KB")
    total = sum((tmp_path / "out" / f["file"]).stat().st_size for f in truth["files"])
    assert 50_000 < total < 90_000
    check_truth(tmp_path / "out")


def _shift_a_copy(truth: dict) -> None:
    truth["copies"][0]["target"]["start_char"] += 7


def _drop_a_family_member(truth: dict) -> None:
    truth["families"][0].pop()


def _name_a_family_that_is_not_there(truth: dict) -> None:
    for s in truth["speeches"]:
        if s["family"] is not None:
            s["family"] = len(truth["families"])
            break


@pytest.mark.parametrize("spoil", [_shift_a_copy, _drop_a_family_member, _name_a_family_that_is_not_there])
def test_check_truth_catches_a_wrong_truth(tmp_path, no_gov_reports, spoil):
    out = tmp_path / "out"
    generate_corpus(out, seed=0, families=3)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    spoil(truth)
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(AssertionError):
        check_truth(out)


def test_refuses_a_non_empty_folder_unless_forced(tmp_path, no_gov_reports):
    out = tmp_path / "out"
    generate_corpus(out, seed=0, families=3)
    with pytest.raises(FileExistsError):
        generate_corpus(out, seed=1, families=2)
    generate_corpus(out, seed=1, families=2, force=True)
    check_truth(out)  # no page of the first corpus is left behind


def test_cli(tmp_path, no_gov_reports, capsys):
    assert generate.main([str(tmp_path / "out"), "--seed", "2", "--families", "2"]) == 0
    assert "check_truth: ok" in capsys.readouterr().out


def test_large_families_come_after_the_rest_which_stays_as_it_was(tmp_path, no_gov_reports, monkeypatch):
    """``large_families`` adds families of ``LARGE_FAMILY`` copies after the others: the speeches and families
    of the corpus without them are drawn the same (their truth entries are the same), and check_truth holds."""
    monkeypatch.setattr(generate, "LARGE_FAMILY", (9, 12))  # small, for speed; the default is 60-300
    plain = generate_corpus(tmp_path / "plain", seed=4, families=5)
    large = generate_corpus(tmp_path / "large", seed=4, families=5, large_families=2)
    check_truth(tmp_path / "large")
    assert len(large["families"]) == len(plain["families"]) + 2
    sizes = [len(f) for f in large["families"]]
    assert sizes[: len(plain["families"])] == [len(f) for f in plain["families"]]
    assert all(10 <= n <= 13 for n in sizes[-2:])  # the source and 9-12 copies
    assert {s["title"] for s in plain["speeches"]} <= {s["title"] for s in large["speeches"]}
    with pytest.raises(ValueError, match="large_families"):
        generate_corpus(tmp_path / "bad", seed=4, families=5, large_families=-1)
