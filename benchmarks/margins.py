"""Separation margin per shingle setting: how far apart true copies and hard negatives are.

    python benchmarks/margins.py GENERATED_DIR [GOV_REPORTS_DIR]

For each shingle mode and n: the 5th percentile of exact Jaccard over true near-duplicate pairs of a
generated corpus (copies that are not truncated), and the maximum Jaccard over pairs of different
government work reports (hard negatives: different years, shared stock language). A wider gap between the
two leaves more room for the threshold; the threshold is set inside the gap.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dupspeech.api import read_and_split, speech_text  # noqa: E402
from dupspeech.cluster import overlap  # noqa: E402
from dupspeech.config import ShingleConfig  # noqa: E402
from dupspeech.shingle import shingles  # noqa: E402


def _sets(corpus: Path, cfg: ShingleConfig):
    _, docs, speeches, _ = read_and_split(corpus)
    by = {d.name: d for d in docs}
    return speeches, [shingles(speech_text(by[s.file], s).text, cfg) for s in speeches]


def _jaccard(a, b) -> float:
    x = overlap(a, b)
    return x / (len(a) + len(b) - x) if len(a) + len(b) - x else 0.0


def main() -> int:
    gen = Path(sys.argv[1])
    gov = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT.parent / "shared" / "corpus" / "gov_reports"
    truth = json.loads((gen / "truth.json").read_text(encoding="utf-8"))
    role = {s["id"]: s["role"] for s in truth["speeches"]}
    print(f"{'setting':10s} {'copies p5':>10s} {'copies min':>10s} {'negatives max':>14s} {'gap':>7s}")
    for mode, n in [("char", 3), ("char", 4), ("char", 5), ("char", 6), ("char", 8), ("word", 2), ("word", 3)]:
        cfg = ShingleConfig(mode=mode, ngram=n)
        speeches, sets = _sets(gen, cfg)
        index = {s.id: k for k, s in enumerate(speeches)}
        pos = []
        for fam in truth["families"]:
            whole = [x for x in fam if role.get(x) != "truncated" and x in index]
            for a, b in itertools.combinations(whole, 2):
                pos.append(_jaccard(sets[index[a]], sets[index[b]]))
        _, gsets = _sets(gov, cfg)
        neg = max(_jaccard(a, b) for a, b in itertools.combinations(gsets, 2))
        p5 = float(np.percentile(pos, 5))
        print(f"{mode} n={n:<4d} {p5:10.3f} {min(pos):10.3f} {neg:14.3f} {p5 - neg:7.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
