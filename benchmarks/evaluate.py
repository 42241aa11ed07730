"""Score dupspeech on a generated, labelled corpus (see ``generate.py``).

    python benchmarks/evaluate.py OUT_DIR                    # score the defaults
    python benchmarks/evaluate.py OUT_DIR --sweep            # the sweep behind the defaults (docs/defaults.md)

Scores:

* **segmentation**: speeches found with exactly the true first and last line (precision, recall);
* **families**: pairwise precision/recall/F1 over pairs of speeches put in one family (a speech is matched to
  the truth by file and first line);
* **provenance**: PAN text-alignment measures at character level (precision, recall, granularity, plagdet)
  over the non-boilerplate copied passages, with boilerplate excluded from the detections.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import dupspeech  # noqa: E402


def _pairs(groups) -> set[tuple[str, str]]:
    out = set()
    for g in groups:
        for a, b in itertools.combinations(sorted(g), 2):
            out.add((a, b))
    return out


def _prf(found: set, truth: set) -> dict:
    tp = len(found & truth)
    p = tp / len(found) if found else 1.0
    r = tp / len(truth) if truth else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def score(corpus: Path, result: dupspeech.Result, truth: dict) -> dict:
    """All scores of one run against the truth."""
    true_bounds = {(s["file"], s["start_line"], s["end_line"]) for s in truth["speeches"]}
    found_bounds = {(s.file, s.span.start_line, s.span.end_line) for s in result.speeches}
    by_start = {(s["file"], s["start_line"]): s["id"] for s in truth["speeches"]}
    to_truth = {s.id: by_start.get((s.file, s.span.start_line)) for s in result.speeches}
    found_families = [[to_truth[x] or f"unmatched:{x}" for x in c.speeches] for c in result.clusters]
    scores = {
        "speeches": {"true": len(true_bounds), "found": len(found_bounds)},
        "segmentation": _prf(found_bounds, true_bounds),
        "families": _prf(_pairs(found_families), _pairs(truth["families"])),
    }
    try:
        from benchmarks.pan import plagdet_scores  # written alongside the generator
    except ImportError:  # pragma: no cover
        return scores
    scores["provenance"] = provenance_scores(result, truth, plagdet_scores)
    return scores


def provenance_scores(result: dupspeech.Result, truth: dict, plagdet_scores) -> dict:
    """PAN measures over copied passages; a case is a (source file range, target file range) pair."""
    speech_file = {s.id: s.file for s in result.speeches}

    def case(src_file, s0, s1, tgt_file, t0, t1):
        return (src_file, s0, s1, tgt_file, t0, t1)

    cases = [
        case(c["source"]["file"], c["source"]["start_char"], c["source"]["end_char"],
             c["target"]["file"], c["target"]["start_char"], c["target"]["end_char"])
        for c in truth["copies"]
    ]
    detections = [
        case(speech_file[c.source.speech], c.source.start_char, c.source.end_char,
             speech_file[c.target.speech], c.target.start_char, c.target.end_char)
        for c in result.copies if not c.boilerplate
    ]
    return plagdet_scores(cases, detections)


def run(corpus: Path, **options) -> tuple[dupspeech.Result, float]:
    start = time.perf_counter()
    result = dupspeech.cluster(corpus, **options)
    return result, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, help="a folder written by generate.py (with truth.json)")
    ap.add_argument("--sweep", action="store_true", help="sweep shingle mode, n-gram and threshold")
    ap.add_argument("--bucket-neighbours", default="50", metavar="N|all",
                    help="ClusterConfig.bucket_neighbours for the run (default 50; all: every pair of a bucket)")
    ap.add_argument("--window-crowd", default="10", metavar="N|off",
                    help="AlignConfig.window_crowd for the run (default 10; off: every window bucket alike)")
    args = ap.parse_args(argv)
    truth = json.loads((args.corpus / "truth.json").read_text(encoding="utf-8"))
    if not args.sweep:
        near = None if args.bucket_neighbours == "all" else int(args.bucket_neighbours)
        crowd = None if args.window_crowd == "off" else int(args.window_crowd)
        result, secs = run(args.corpus, bucket_neighbours=near, align=dupspeech.AlignConfig(window_crowd=crowd))
        print(json.dumps({"seconds": round(secs, 2), **score(args.corpus, result, truth)}, ensure_ascii=False, indent=2))
        return 0
    rows = []
    grid = [("char", n) for n in (3, 4, 5, 6, 8)] + [("word", n) for n in (1, 2, 3, 4)]
    for (mode, n), threshold in itertools.product(grid, (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)):
        result, secs = run(args.corpus, shingle=mode, ngram=n, threshold=threshold, provenance=False,
                           candidate_threshold=min(0.25, threshold))
        fam = score(args.corpus, result, truth)["families"]
        rows.append((mode, n, threshold, fam["precision"], fam["recall"], fam["f1"], round(secs, 2)))
        print(f"{mode:5s} n={n} t={threshold:.1f}  P={fam['precision']:.3f} R={fam['recall']:.3f} "
              f"F1={fam['f1']:.3f}  {secs:.2f}s", flush=True)
    best = max(rows, key=lambda r: (r[5], -r[6]))
    print("best:", best)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
