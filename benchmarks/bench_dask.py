"""The Dask engine: time against the number of workers, and memory per worker against the corpus size.

For every corpus size and worker count a fresh ``LocalCluster`` (worker processes, one thread each, as
``engine_dask.local_cluster`` starts it) is started in a child process; the clock runs from the call of
``engine_dask.cluster`` to its result, with the cluster already up and dupspeech imported on the workers (the
start-up is reported apart). Each run checks that its result is byte-identical to the local engine's. Memory
is the peak resident set (``VmHWM``) of each worker process, and of the driver. Before the clock starts, each
worker has imported dupspeech and loaded the compiled kernels (see ``load_kernels``), and its peak is reset:
"RSS before" is that baseline, the same for every corpus size.

The engine is given a spill folder (a fresh temporary folder per run, as when it starts its own cluster), so
the workers write each partition's data there and hold at most two partitions at a time; ``--in-memory``
measures the other way, the partitions kept in the workers' memory (what a remote scheduler without
``--spill-dir`` does). ``--stage-peaks`` also reads each worker's peak at the end of every stage (and resets
it), to see which stage sets the peak.

Usage::

    python benchmarks/bench_dask.py                                # 2MB and 8MB, 1 and 2 workers
    python benchmarks/bench_dask.py --sizes 2MB,8MB,16MB,32MB --workers 1,2 --stage-peaks --out dask.json
    python benchmarks/bench_dask.py --sizes 2MB,8MB --workers 2 --in-memory

Corpora are made by ``benchmarks/generate.py`` (seed 1) and cached in ``--cache-dir``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "bench"
MIB = 1024 * 1024


def peak_rss() -> int:
    """Peak resident set size of this process in bytes (``VmHWM``)."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", text, re.M).group(1)) * 1024  # type: ignore[union-attr]


def rss() -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", text, re.M).group(1)) * 1024  # type: ignore[union-attr]


def reset_peak() -> None:
    """Lower the peak to the current RSS (Linux), so a worker's peak counts only the run."""
    import gc

    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def corpus_dir(size: str, seed: int, cache: Path) -> Path:
    from benchmarks.generate import generate_corpus

    out = cache / f"corpus-{size}-seed{seed}"
    if not (out / "truth.json").is_file():
        generate_corpus(out, seed=seed, size=size, force=True)
    return out


class StagePeaks(dict):
    """A ``timings`` dict that also reads each worker's peak RSS when a stage ends, then resets it."""

    def __init__(self, client) -> None:
        super().__init__()
        self.client = client
        self.peaks: dict[str, dict[str, int]] = {}

    def __setitem__(self, stage: str, seconds: float) -> None:
        super().__setitem__(stage, seconds)
        if stage not in ("read", "start"):
            self.peaks[stage] = self.client.run(peak_rss)
            self.client.run(reset_peak)


def load_kernels() -> None:
    """Load the compiled kernels (numba's on-disk cache) on a worker with a small run that forces them on, so
    that "RSS before" includes them for every corpus size: a run loads them only for a corpus of 1 million
    characters or more (``dupspeech._jit``), and they take about 50-90 MiB."""
    import dupspeech

    os.environ["DUPSPEECH_JIT"] = "1"
    try:
        dupspeech.cluster(ROOT / "examples" / "corpus")
    finally:
        del os.environ["DUPSPEECH_JIT"]


def child(spec: dict) -> dict:
    """One measurement, in its own process so that the driver's peak belongs to this run alone."""
    import shutil

    import distributed

    import dupspeech
    from dupspeech import engine_dask

    corpus, workers = spec["corpus"], spec["workers"]
    spill = None if spec.get("in_memory") else (spec.get("spill_dir") or tempfile.mkdtemp(prefix="bench-spill-"))
    started = time.perf_counter()
    with engine_dask.local_cluster(workers, memory_limit=spec.get("memory_limit", "auto")) as cluster, \
            distributed.Client(cluster) as client:
        client.run(engine_dask._warm)
        client.run(load_kernels)
        client.run(reset_peak)
        baseline = client.run(rss)
        start_up = time.perf_counter() - started
        timings: dict = StagePeaks(client) if spec.get("stage_peaks") else {}
        t0 = time.perf_counter()
        try:
            result = engine_dask.cluster(corpus, scheduler=cluster.scheduler_address, spill_dir=spill,
                                         partition_chars=spec.get("partition_chars", 1_000_000), timings=timings)
        finally:
            if spill and not spec.get("spill_dir"):
                shutil.rmtree(spill, ignore_errors=True)
        seconds = time.perf_counter() - t0
        peaks = client.run(peak_rss)
    stage_peaks = getattr(timings, "peaks", {})
    if stage_peaks:  # the peak was reset at every stage end: the run's peak is the largest of them
        peaks = {w: max([p] + [stage[w] for stage in stage_peaks.values()]) for w, p in peaks.items()}
    chars = sum(len(d.text) for d in result.documents)
    out = {
        "workers": workers,
        "mode": "memory" if spill is None else "spill",
        "chars": chars,
        "partitions": max(2 * workers, -(-chars // spec.get("partition_chars", 1_000_000))),
        "seconds": seconds,
        "start_up_seconds": start_up,
        "stages": dict(timings),
        "stage_peak_bytes": {stage: sorted(p.values()) for stage, p in stage_peaks.items()},
        "worker_peak_bytes": sorted(peaks.values()),
        "worker_baseline_bytes": sorted(baseline.values()),
        "driver_peak_bytes": peak_rss(),
        "speeches": len(result.speeches),
        "copies": len(result.copies),
    }
    if spec.get("check", True):
        t0 = time.perf_counter()
        local = dupspeech.cluster(corpus)
        out["local_seconds"] = time.perf_counter() - t0
        out["identical_to_local"] = local.to_json() == result.to_json()
    return out


def local_child(spec: dict) -> dict:
    """The local engine alone, for the reference time and peak memory."""
    import dupspeech

    t0 = time.perf_counter()
    dupspeech.cluster(spec["corpus"], jobs=spec.get("jobs", 1))
    return {"seconds": time.perf_counter() - t0, "peak_bytes": peak_rss(), "jobs": spec.get("jobs", 1)}


def run_child(spec: dict) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                          cwd=ROOT)
    if proc.returncode:
        raise RuntimeError(f"child failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def markdown(report: dict) -> str:
    lines = [("| corpus | engine | workers | partitions | seconds | start-up s | peak RSS per worker (MiB) "
              "| worker RSS before (MiB) | driver peak (MiB) | identical |"),
             "|---|---|---|---|---|---|---|---|---|---|"]
    stages: list[str] = []
    for size, entry in report["sizes"].items():
        for ref in entry["local"]:
            lines.append(f"| {size} ({entry['bytes'] / MIB:.1f} MiB) | local | jobs {ref['jobs']} | - | "
                         f"{ref['seconds']:.2f} | - | - | - | {ref['peak_bytes'] / MIB:.0f} | - |")
        for run in entry["dask"]:
            peaks = " / ".join(f"{p / MIB:.0f}" for p in run["worker_peak_bytes"])
            base = " / ".join(f"{p / MIB:.0f}" for p in run["worker_baseline_bytes"])
            engine = "dask" if run.get("mode", "spill") == "spill" else "dask (in memory)"
            lines.append(f"| {size} | {engine} | {run['workers']} | {run.get('partitions', '-')} | "
                         f"{run['seconds']:.2f} | {run['start_up_seconds']:.1f} | {peaks} | {base} | "
                         f"{run['driver_peak_bytes'] / MIB:.0f} | {'yes' if run.get('identical_to_local') else 'NO'} |")
            stages += [s for s in run.get("stage_peak_bytes", {}) if s not in stages]
    if stages:  # the largest worker's peak RSS at the end of each stage
        lines += ["", "| corpus | workers | " + " | ".join(f"{s} (MiB)" for s in stages) + " |",
                  "|---|---|" + "---|" * len(stages)]
        for size, entry in report["sizes"].items():
            for run in entry["dask"]:
                found = run.get("stage_peak_bytes", {})
                cells = [f"{max(found[s]) / MIB:.0f}" if s in found else "-" for s in stages]
                lines.append(f"| {size} | {run['workers']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2MB,8MB", help="corpus sizes, comma-separated (default 2MB,8MB)")
    ap.add_argument("--workers", default="1,2", help="worker counts, comma-separated (default 1,2)")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each measurement; the fastest is reported (default 1; use more on a busy machine)")
    ap.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help=f"where corpora are cached ({DEFAULT_CACHE})")
    ap.add_argument("--out", help="also write every measurement to this JSON file")
    ap.add_argument("--memory-limit", default="auto",
                    help="memory budget of each worker (Dask spills to disk past 60%% of it; default: Dask's auto)")
    ap.add_argument("--in-memory", action="store_true",
                    help="keep the partitions in the workers' memory (no spill folder), as a remote scheduler "
                         "without --spill-dir does")
    ap.add_argument("--spill-dir", help="the engine's spill folder (default: a fresh temporary folder per run)")
    ap.add_argument("--partition-chars", type=int, default=1_000_000,
                    help="largest partition in characters (the engine's partition_chars; default 1000000)")
    ap.add_argument("--stage-peaks", action="store_true",
                    help="also read each worker's peak RSS at the end of every stage")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        if spec.get("warm"):
            load_kernels()
            print(json.dumps({}))
        else:
            print(json.dumps(local_child(spec) if spec.get("local") else child(spec)))
        return 0
    run_child({"warm": True})  # compile the kernels into numba's cache once, so that the workers only load them
    report: dict = {"cpus": os.cpu_count(), "sizes": {}}
    for size in args.sizes.split(","):
        corpus = corpus_dir(size, args.seed, Path(args.cache_dir))
        total = sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file() and p.name != "truth.json")
        entry: dict = {"bytes": total, "local": [], "dask": []}
        entry["local"].append(min((run_child({"corpus": str(corpus), "local": True, "jobs": 1})
                                   for _ in range(args.repeat)), key=lambda r: r["seconds"]))
        for workers in (int(w) for w in args.workers.split(",")):
            spec = {"corpus": str(corpus), "workers": workers, "memory_limit": args.memory_limit,
                    "in_memory": args.in_memory, "spill_dir": args.spill_dir, "stage_peaks": args.stage_peaks,
                    "partition_chars": args.partition_chars}
            run = min((run_child(spec) for _ in range(args.repeat)),
                      key=lambda r: r["seconds"])
            entry["dask"].append(run)
            print(f"{size}: {workers} workers {run['seconds']:.2f} s, identical: {run['identical_to_local']}",
                  file=sys.stderr)
        report["sizes"][size] = entry
    print(markdown(report))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
