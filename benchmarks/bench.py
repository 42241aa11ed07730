"""Throughput, stage timings and peak memory of ``dupspeech cluster``, against two baselines, on one corpus.

    python benchmarks/bench.py --size 10MB                      # char mode, both baselines, a markdown table
    python benchmarks/bench.py --size 10MB --mode word          # word mode (+ jieba vs rjieba agreement)
    python benchmarks/bench.py --size 10MB --profile            # + cProfile's top functions of the dupspeech run
    python benchmarks/bench.py --size 100MB --baselines b --no-scaling --out results.json

The corpus is made by ``generate.py`` (seed ``--seed``, about ``--size`` bytes of pages) and cached under
``<tmp>/bench/`` keyed by size, seed and the generator's source, so later runs reuse it. Every measured run
happens in its own child process, one after the other in the same invocation on the same corpus, so each
peak RSS is that run's own (the peak is reset after imports and input preparation through
``/proc/self/clear_refs`` where Linux allows it):

* ``dupspeech``: ``dupspeech.cluster(corpus, timings=...)`` end to end (read, decode, split, shingle,
  signatures, LSH, verify, families, and alignment unless ``--no-provenance``); with provenance on, a second
  run without it shows what alignment costs;
* ``a``: :func:`baselines.datasketch_jieba` (datasketch as its docs show it, char 5-grams or jieba word
  3-grams, matching ``--mode``), ``b``: :func:`baselines.rensa_pipeline` (rensa's Rust MinHash + LSH). Both get
  the speech texts dupspeech segments (prepared before their clock starts) and do only shingles, signatures and
  candidate search;
* ``tokenizers`` (word mode): jieba against rjieba on the same texts, speed and agreement;
* ``scaling`` (default on): dupspeech again on a corpus twice the size, to see which stage grows faster than
  the input;
* ``profile`` (``--profile``): dupspeech once more under cProfile (slower; its times are not used elsewhere).

Throughput is counted in characters of decoded page text (the same count for every run, so the figures
compare), per second of wall time and per second of CPU time ("per core"). Memory "beyond the text" is the
peak RSS minus the RSS before the run minus the decoded text's own size, per speech.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as _dt
import gc
import hashlib
import inspect
import io
import json
import os
import platform
import pstats
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate_corpus, parse_size  # noqa: E402

STAGES = ("read", "segment", "normalize", "shingle", "windows", "minhash", "lsh", "verify", "families", "align")
"""The stages ``dupspeech.cluster(timings=...)`` reports, in pipeline order."""

GROUPS = {
    "read+decode": ("read",),
    "segment": ("segment",),
    "shingle+hash": ("normalize", "shingle"),
    "signatures": ("minhash",),
    "LSH": ("windows", "lsh"),
    "verify": ("verify", "families"),
    "align": ("align",),
}
"""The stages of the performance issue, made of dupspeech's own (``windows`` is the passage-window candidate
search: window seeds, window signatures and their LSH)."""

BASELINES = {"a": "datasketch", "b": "rensa"}
BASELINE_LABELS = {
    "a": "(a) datasketch MinHash.update per shingle + MinHashLSH",
    "b": "(b) rensa RMinHash + RMinHashLSH (bulk calls)",
}
BASELINE_PACKAGES = {"a": ("datasketch", "jieba"), "b": ("rensa",)}

TARGETS = {
    "char_chars_per_core": 10e6,
    "word_chars_per_core": 3e6,
    "speedup_a": 50.0,
    "speedup_b": 1.5,
    "bytes_per_speech": 1024.0,
    "align_share": 0.5,
    "scaling_time_ratio": 2.2,
}

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "bench"
MIB = 1024 * 1024


# ------------------------------------------------------------------------------------------- memory


def _status_kib(field: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    m = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(m.group(1)) if m else None


def rss_bytes() -> int:
    """Resident set size now (``VmRSS``), or the peak where ``/proc`` is missing."""
    kib = _status_kib("VmRSS")
    return kib * 1024 if kib is not None else peak_rss_bytes()


def peak_rss_bytes() -> int:
    """Peak resident set size of this process: ``VmHWM`` on Linux, else ``ru_maxrss``.

    ``VmHWM`` is preferred because a child's ``ru_maxrss`` starts at its parent's RSS at fork time (Linux keeps
    the larger of the pre-exec and the new high-water marks) and :func:`reset_peak_rss` cannot lower it.
    """
    kib = _status_kib("VmHWM")
    if kib is not None:
        return kib * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def reset_peak_rss() -> bool:
    """Reset the peak RSS to the current RSS (Linux >= 4.0); ``False`` where it cannot be reset."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its waited-for children (worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class StageMemory(dict):
    """A ``timings`` dict that also notes the peak RSS each time a stage adds its seconds.

    ``dupspeech.cluster`` adds to ``timings[stage]`` at the end of each stage block, so the peak RSS noted at a
    stage's last update is the peak reached by the end of that stage.
    """

    READ_EVERY = 0.02
    """Seconds between two reads of the peak RSS. Reading and splitting add to their stages once per file, and
    reading ``/proc/self/status`` each time cost about 0.1 s of a 10 MB run (measured), counted as dupspeech's
    own time; a peak noted at most this long ago is used instead (the peak only grows, so it is at most
    20 ms of growth behind)."""

    def __init__(self, *, trace: bool = False) -> None:
        super().__init__()
        self.peak_after: dict[str, int] = {}
        self.trace = trace
        self.traced: dict[str, list[int]] = {}  # stage -> [largest traced bytes at its end, traced peak inside it]
        self.snapshot = None
        self._largest = 0
        self._peak = (0.0, 0)  # (when read, peak RSS)

    def __setitem__(self, key: str, value: float) -> None:
        super().__setitem__(key, value)
        now = time.perf_counter()
        if now - self._peak[0] >= self.READ_EVERY:
            self._peak = (now, peak_rss_bytes())
        self.peak_after[key] = self._peak[1]
        if self.trace:
            import tracemalloc

            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            old = self.traced.get(key, [0, 0])
            self.traced[key] = [max(old[0], current), max(old[1], peak)]
            if current > 1.25 * self._largest:  # keep the allocation sites at the largest point seen
                self._largest = current
                self.snapshot = tracemalloc.take_snapshot()


# ------------------------------------------------------------------------------------------- corpus


def corpus_dir(size: int | None, seed: int, cache_dir: Path = DEFAULT_CACHE, *, families: int | None = None,
               gov_reports: bool = True) -> Path:
    """The cached corpus of about ``size`` bytes (or of ``families`` families) and ``seed``, made on first use.

    ``gov_reports=False`` synthesises all text (``generate.py --no-gov-reports``): the mix of speeches is then
    the same at every size, whereas with the reports (the default) the larger corpus has proportionally more
    synthesised, shorter speeches once the reports are used up. The key includes a hash of ``generate.py``, so
    a changed generator makes a new corpus. A corpus is written to a temporary folder and renamed when
    complete, so an interrupted run leaves no half corpus.
    """
    gen_hash = hashlib.sha1((ROOT / "benchmarks" / "generate.py").read_bytes()).hexdigest()[:8]
    what = (f"f{families}" if families else str(size)) + ("" if gov_reports else "-builtin")
    out = Path(cache_dir) / f"corpus-{what}-seed{seed}-{gen_hash}"
    if (out / "truth.json").is_file():
        return out
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    generate_corpus(tmp, seed, size=None if families else size, families=families, use_gov_reports=gov_reports)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def truth_pairs(corpus: Path) -> set[tuple[str, str]]:
    """Pairs of speech ids in one true family (ids are ``file#k``, as dupspeech names speeches)."""
    truth = json.loads((corpus / "truth.json").read_text(encoding="utf-8"))
    out = set()
    for fam in truth["families"]:
        fam = sorted(fam)
        out.update((a, b) for k, a in enumerate(fam) for b in fam[k + 1 :])
    return out


def source_hash() -> str:
    """A short hash of the dupspeech sources imported here, to notice code that changed between runs."""
    import dupspeech

    h = hashlib.sha1()
    for path in sorted(Path(dupspeech.__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def git_head() -> str | None:
    """The commit checked out (read only), or ``None`` outside a git work tree."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                             timeout=10, check=False)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "src"], capture_output=True,
                               text=True, cwd=ROOT, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode:
        return None
    return out.stdout.strip() + (" + uncommitted changes in src/" if dirty.stdout.strip() else "")


def jobs_supported() -> bool:
    """Whether ``dupspeech.cluster`` takes ``jobs=`` (directly or through ``settings``)."""
    import dupspeech
    from dupspeech import api

    return any("jobs" in inspect.signature(f).parameters for f in (dupspeech.cluster, api.settings))


# ------------------------------------------------------------------------------------ child processes


def _warm_tokenizer(mode: str) -> float:
    """Load jieba's dictionary before the clock starts (a fixed cost, reported separately)."""
    if mode != "word":
        return 0.0
    from benchmarks.baselines import tokenize

    start = time.perf_counter()
    tokenize("jieba")
    return time.perf_counter() - start


def _child_dupspeech(spec: dict) -> dict:
    import dupspeech

    warm = _warm_tokenizer(spec["mode"])
    # the kernels' machine code (LLVM, about 60 MiB whatever the corpus) is loaded before the clock and the
    # memory baseline, and reported apart: it is a fixed cost, not memory per speech
    kernels = _run_kernels_once(spec)
    options: dict = {"shingle": spec["mode"], "provenance": spec["provenance"]}
    if spec.get("jobs"):
        options["jobs"] = spec["jobs"]
    profiler = cProfile.Profile() if spec.get("profile") else None
    timings = StageMemory(trace=bool(spec.get("tracemalloc")))
    if timings.trace:
        import tracemalloc

        tracemalloc.start(1)
    reset = reset_peak_rss()
    base = rss_bytes()
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    if profiler:
        profiler.enable()
    result = dupspeech.cluster(spec["corpus"], timings=timings, **options)
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    peak = peak_rss_bytes()
    if profiler:
        profiler.dump_stats(spec["profile"])
    traced = None
    if timings.trace:
        import tracemalloc

        top = timings.snapshot.statistics("lineno")[:15] if timings.snapshot else []
        traced = {"stages": timings.traced, "peak": max((v[1] for v in timings.traced.values()), default=0),
                  "largest": timings._largest,
                  "top": [f"{st.size / MIB:8.1f} MiB {st.count:9d} blocks  {st.traceback[0].filename.split('/')[-1]}:"
                          f"{st.traceback[0].lineno}" for st in top]}
        tracemalloc.stop()
    return {
        "source": source_hash(),
        "traced": traced,
        "wall": wall,
        "cpu": cpu,
        "warmup": warm,
        "kernels_load": kernels,
        "stages": dict(timings),
        "peak_after_stage": {k: v - base for k, v in timings.peak_after.items()},
        "base_rss": base,
        "peak_rss": peak,
        "peak_reset": reset,
        "worker_peak_rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
        "chars": sum(len(d.text) for d in result.documents),
        "text_bytes": sum(sys.getsizeof(d.text) for d in result.documents),
        "files": len(result.files),
        "speeches": len(result.speeches),
        "pairs": [[p.a, p.b] for p in result.pairs],
        "families": len(result.clusters),
        "copies": len(result.copies),
    }


def _child_compile(spec: dict) -> dict:
    """Compile dupspeech's numba kernels into their on-disk cache (a no-op when they are cached already), so the
    timed runs measure a normal run, which loads them from the cache, not the one-off compile after an install."""
    from dupspeech import _jit

    if not _jit.available():
        return {"wall": 0.0, "available": False}
    return {**_run_kernels_once(spec), "available": True}


def _run_kernels_once(spec: dict) -> dict:
    """Run every compiled kernel once, on a slice of the corpus (it has families, borrowed passages and stock
    language, so every kernel runs): compiles them, or loads them from the cache. Seconds and RSS added."""
    import dupspeech
    from dupspeech import _jit

    pages = sorted(p for p in Path(spec["corpus"]).rglob("*") if p.suffix in (".txt", ".md"))[:80]
    before, t0 = rss_bytes(), time.perf_counter()
    saved = os.environ.get("DUPSPEECH_JIT")
    os.environ["DUPSPEECH_JIT"] = "1" if _jit.available() else "0"
    try:
        dupspeech.cluster([(p.name, p.read_bytes()) for p in pages], shingle=spec["mode"])
    finally:
        if saved is None:
            del os.environ["DUPSPEECH_JIT"]
        else:
            os.environ["DUPSPEECH_JIT"] = saved
    return {"wall": time.perf_counter() - t0, "rss": rss_bytes() - before}


def _child_baseline(spec: dict) -> dict:
    from benchmarks import baselines

    warm = _warm_tokenizer(spec["mode"])
    ids, texts = baselines.speech_texts(spec["corpus"])
    fn = {"datasketch": baselines.datasketch_jieba, "rensa": baselines.rensa_pipeline}[spec["task"]]
    reset = reset_peak_rss()
    base = rss_bytes()
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    run = fn(texts, mode=spec["mode"], threshold=spec["threshold"], num_perm=spec["num_perm"])
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    return {
        "source": source_hash(),
        "wall": wall,
        "cpu": cpu,
        "warmup": warm,
        "stages": run.seconds,
        "base_rss": base,
        "peak_rss": peak_rss_bytes(),
        "peak_reset": reset,
        "speeches": len(texts),
        "speech_chars": sum(len(t) for t in texts),
        "shingles": run.shingles,
        "pairs": [[ids[i], ids[j]] for i, j in run.pairs],
    }


def _boundaries(tokens: list[str]) -> set[int]:
    out, pos = set(), 0
    for tok in tokens:
        pos += len(tok)
        out.add(pos)
    return out


def _child_tokenizers(spec: dict) -> dict:
    """jieba against rjieba on the speech texts: characters per second, and how far they agree."""
    import logging

    import jieba

    from benchmarks import baselines

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    _, texts = baselines.speech_texts(spec["corpus"])
    chars = sum(len(t) for t in texts)
    t0 = time.perf_counter()
    cut_j = [jieba.lcut(t) for t in texts]
    out: dict = {"chars": chars, "jieba_seconds": time.perf_counter() - t0, "rjieba_seconds": None}
    try:
        import rjieba
    except ImportError:
        out["rjieba_missing"] = "pip install rjieba"
        return out
    rjieba.cut("预热")  # rjieba builds its dictionary on first use
    t0 = time.perf_counter()
    cut_r = [rjieba.cut(t) for t in texts]
    out["rjieba_seconds"] = time.perf_counter() - t0
    both = inter = same = 0
    jaccards = []
    for a, b in zip(cut_j, cut_r):
        ba, bb = _boundaries(a), _boundaries(b)
        inter += len(ba & bb)
        both += len(ba) + len(bb)
        same += a == b
        wa, wb = [w for w in a if w.strip()], [w for w in b if w.strip()]
        ga = {tuple(wa[i : i + 3]) for i in range(max(1, len(wa) - 2))}
        gb = {tuple(wb[i : i + 3]) for i in range(max(1, len(wb) - 2))}
        jaccards.append(len(ga & gb) / len(ga | gb) if ga | gb else 1.0)
    out["boundary_f1"] = 2 * inter / both if both else 1.0
    out["identical_share"] = same / len(texts) if texts else 1.0
    out["word3_jaccard_mean"] = sum(jaccards) / len(jaccards) if jaccards else 1.0
    out["word3_jaccard_min"] = min(jaccards) if jaccards else 1.0
    return out


_CHILDREN = {"compile": _child_compile, "dupspeech": _child_dupspeech, "datasketch": _child_baseline,
             "rensa": _child_baseline, "tokenizers": _child_tokenizers}


def child_main(spec_path: str, out_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    out = _CHILDREN[spec["task"]](spec)
    Path(out_path).write_text(json.dumps(out))
    return 0


def warm_page_cache(corpus: Path) -> int:
    """Read every file of ``corpus`` once, so a timed run finds them in the page cache whatever ran before it:
    the runs compare computation, not disk reads. Returns the bytes read."""
    total = 0
    for path in sorted(corpus.rglob("*")):
        if path.is_file():
            total += len(path.read_bytes())
    return total


def run_child(spec: dict, workdir: Path) -> dict:
    """Run one measurement in a fresh ``python bench.py --child`` process and return what it measured."""
    if spec.get("corpus"):
        warm_page_cache(Path(spec["corpus"]))
    n = len(list(workdir.glob("spec-*.json")))
    spec_path, out_path = workdir / f"spec-{n}.json", workdir / f"out-{n}.json"
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(spec_path), str(out_path)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark run {spec['task']} failed:\n{proc.stderr[-4000:]}")
    return json.loads(out_path.read_text())


# ------------------------------------------------------------------------------------------ the run


def _installed(packages: tuple[str, ...]) -> str | None:
    """``None`` when every package imports, else the pip command that installs the missing ones."""
    import importlib.util

    missing = [p for p in packages if importlib.util.find_spec(p) is None]
    return f"pip install {' '.join(missing)}" if missing else None


def run_bench(args: argparse.Namespace) -> dict:
    """All the runs one invocation asks for, and the figures derived from them."""
    size = None if args.families else parse_size(args.size or "10MB")
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    corpus = corpus_dir(size, args.seed, cache, families=args.families, gov_reports=not args.no_gov_reports)
    gen_seconds = time.perf_counter() - t0
    from dupspeech.config import ClusterConfig, MinHashConfig

    threshold, num_perm = ClusterConfig().candidate_threshold, MinHashConfig().num_perm
    jobs_note = None
    jobs = args.jobs
    if jobs and not jobs_supported():
        jobs_note = f"--jobs {jobs}: not available (dupspeech.cluster takes no jobs option yet); ran with 1 process"
        jobs = None
    report: dict = {
        "date": _dt.date.today().isoformat(),
        "command": "python benchmarks/bench.py " + " ".join(args.argv),
        "git": git_head(),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_before": os.getloadavg()},
        "corpus": {"dir": str(corpus), "size": size, "families": args.families, "seed": args.seed,
                   "gov_reports": not args.no_gov_reports,
                   "generate_seconds": gen_seconds},
        "mode": args.mode,
        "provenance": not args.no_provenance,
        "jobs": jobs, "jobs_note": jobs_note,
        "threshold": threshold, "num_perm": num_perm,
        "runs": {}, "skipped": {},
    }
    report["repeat"] = args.repeat
    with tempfile.TemporaryDirectory(prefix="dupspeech-bench-") as tmp:
        work = Path(tmp)
        common = {"corpus": str(corpus), "mode": args.mode, "threshold": threshold, "num_perm": num_perm}
        runs = report["runs"]
        report["compile"] = run_child({**common, "task": "compile"}, work)
        timed: dict[str, dict] = {"dupspeech": {**common, "task": "dupspeech", "provenance": not args.no_provenance,
                                                "jobs": jobs}}
        if not args.no_provenance:
            timed["dupspeech_noprov"] = {**common, "task": "dupspeech", "provenance": False, "jobs": jobs}
        for key in args.baselines:
            missing = _installed(BASELINE_PACKAGES[key])
            if missing:
                report["skipped"][key] = f"not installed: {missing}"
                continue
            timed[key] = {**common, "task": BASELINES[key]}
        if args.scaling:
            big = corpus_dir(2 * size if size else None, args.seed, cache,
                             families=2 * args.families if args.families else None,
                             gov_reports=not args.no_gov_reports)
            report["corpus"]["scaling_dir"] = str(big)
            timed["scaling"] = {**common, "corpus": str(big), "task": "dupspeech",
                                "provenance": not args.no_provenance, "jobs": jobs}
        runs.update(repeated_runs(timed, args.repeat, work))
        if args.mode == "word":
            runs["tokenizers"] = run_child({**common, "task": "tokenizers"}, work)
        if args.profile:
            prof = work / "dupspeech.prof"
            run_child({**common, "task": "dupspeech", "provenance": not args.no_provenance, "jobs": jobs,
                       "profile": str(prof)}, work)
            report["profile"] = profile_text(prof, args.profile_top)
        if args.tracemalloc:
            # in one process: tracemalloc does not see forked workers
            report["tracemalloc"] = run_child({**common, "task": "dupspeech", "provenance": not args.no_provenance,
                                               "tracemalloc": True}, work)["traced"]
    sources = {run.get("source") for run in report["runs"].values() if run.get("source")}
    if len(sources) > 1:
        report["warning"] = (f"src/dupspeech changed while the benchmark ran ({len(sources)} versions): runs of "
                             "this report measured different code; run again on a quiet tree")
    report["source"] = runs["dupspeech"].get("source")
    report["figures"] = figures(report, corpus)
    return report


def repeated_runs(specs: dict[str, dict], repeat: int, work: Path) -> dict[str, dict]:
    """Each timed run ``repeat`` times, each time in a fresh process, the kinds taking turns (so a slow spell of
    the machine falls on all of them alike). The run of median wall time stands for its kind, with every wall time
    in ``walls``: single runs on a shared machine vary by 10-20 %."""
    done: dict[str, list[dict]] = {key: [] for key in specs}
    for _ in range(max(1, repeat)):
        for key, spec in specs.items():
            done[key].append(run_child(spec, work))
    out = {}
    for key, results in done.items():
        ordered = sorted(results, key=lambda r: r["wall"])
        out[key] = {**ordered[(len(ordered) - 1) // 2], "walls": [r["wall"] for r in results]}
    return out


def profile_text(path: Path, top: int) -> dict:
    """The top functions of a cProfile dump, by own time and by cumulative time."""
    out = {}
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        stats = pstats.Stats(str(path), stream=buf)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        text = buf.getvalue()
        out[key] = text[text.find("   ncalls") :].rstrip() if "   ncalls" in text else text
    return out


def figures(report: dict, corpus: Path) -> dict:
    """Throughput, memory per speech, ratios, recall and targets from the raw runs."""
    runs = report["runs"]
    dup = runs["dupspeech"]
    chars = dup["chars"]
    verified = {tuple(sorted(p)) for p in dup["pairs"]}
    true_pairs = truth_pairs(corpus)
    fig: dict = {"chars": chars, "speeches": dup["speeches"], "files": dup["files"], "verified_pairs": len(verified),
                 "true_family_pairs": len(true_pairs), "rows": {}}
    for key, run in runs.items():
        if key == "tokenizers":
            continue
        found = {tuple(sorted(p)) for p in run["pairs"]}
        beyond = run["peak_rss"] - run["base_rss"] - run.get("text_bytes", 0)
        n_chars = run["chars"] if key == "scaling" else chars  # every run on one corpus counts the same chars
        truth = truth_pairs(Path(report["corpus"]["scaling_dir"])) if key == "scaling" else true_pairs
        fig["rows"][key] = {
            "wall": run["wall"],
            "cpu": run["cpu"],
            "chars_per_s": n_chars / run["wall"],
            "chars_per_cpu_s": n_chars / max(run["cpu"], 1e-9),
            "peak_rss": run["peak_rss"],
            "beyond_text_per_speech": beyond / max(run["speeches"], 1),
            "pairs": len(found),
            "recall_of_verified": None if key == "scaling" else
            (len(found & verified) / len(verified) if verified else 1.0),
            "true_pairs_found": len(found & truth) / len(truth) if truth else 1.0,
        }
    match_stages = sum(dup["stages"].get(s, 0.0) for s in ("normalize", "shingle", "minhash", "lsh"))
    fig["dupspeech_match_stages"] = match_stages
    for key in ("a", "b"):
        if key in runs:
            fig[f"speedup_{key}"] = runs[key]["wall"] / dup["wall"]
            fig[f"speedup_{key}_noprov"] = runs[key]["wall"] / runs["dupspeech_noprov"]["wall"] \
                if "dupspeech_noprov" in runs else None
            fig[f"speedup_{key}_match_stages"] = runs[key]["wall"] / match_stages if match_stages else None
    if "scaling" in runs:
        big = runs["scaling"]
        fig["scaling"] = {
            "chars_ratio": big["chars"] / chars,
            "speeches_ratio": big["speeches"] / max(dup["speeches"], 1),
            "time_ratio": big["wall"] / dup["wall"],
            "stages": {s: big["stages"][s] / dup["stages"][s] for s in dup["stages"]
                       if s in big["stages"] and dup["stages"][s] > 0},
        }
    total = dup["wall"]
    fig["align_share"] = dup["stages"].get("align", 0.0) / total if total else 0.0
    row = fig["rows"]["dupspeech"]
    targets = []
    if report["mode"] == "char":
        targets.append(("char mode >= 10 M chars/s per core (end to end)", row["chars_per_cpu_s"],
                        row["chars_per_cpu_s"] >= TARGETS["char_chars_per_core"], f"{row['chars_per_cpu_s'] / 1e6:.2f} M"))
    else:
        targets.append(("word mode >= 3 M chars/s per core (end to end)", row["chars_per_cpu_s"],
                        row["chars_per_cpu_s"] >= TARGETS["word_chars_per_core"], f"{row['chars_per_cpu_s'] / 1e6:.2f} M"))
    for key in ("a", "b"):
        if f"speedup_{key}" in fig:
            want = TARGETS[f"speedup_{key}"]
            got = fig[f"speedup_{key}"]
            targets.append((f">= {want:g}x baseline ({key})", got, got >= want, f"{got:.2f}x"))
    per = row["beyond_text_per_speech"]
    targets.append(("peak RSS <= 1 KiB per speech beyond the text", per, per <= TARGETS["bytes_per_speech"],
                    f"{per / 1024:.1f} KiB"))
    if report["provenance"]:
        share = fig["align_share"]
        targets.append(("provenance does not dominate (align < 50 % of the run)", share,
                        share < TARGETS["align_share"], f"{100 * share:.0f} %"))
    if "scaling" in fig:
        sc = fig["scaling"]
        mix = "same mix" if report["corpus"].get("gov_reports") is False else "more synthesised speeches"
        targets.append((f"2x corpus -> <= {TARGETS['scaling_time_ratio']:g}x time", sc["time_ratio"],
                        sc["time_ratio"] <= TARGETS["scaling_time_ratio"],
                        f"{sc['time_ratio']:.2f}x (speeches x{sc['speeches_ratio']:.2f}, {mix})"))
    fig["targets"] = [{"target": t, "value": v, "met": bool(m), "shown": s} for t, v, m, s in targets]
    return fig


# ------------------------------------------------------------------------------------------ the table


def _mib(n: float) -> str:
    return f"{n / MIB:.0f}"


def markdown(report: dict) -> str:
    """The report as markdown tables."""
    fig, runs = report["figures"], report["runs"]
    m = report["machine"]
    mode = report["mode"]
    c = report["corpus"]
    corpus_asked = f"{c['families']} families asked" if c.get("families") else f"{c['size']:,} bytes asked"
    if c.get("gov_reports") is False:
        corpus_asked += ", all text synthesised"
    lines = [
        f"## `{report['command']}` — {report['date']}",
        "",
        (f"Machine: {m['cores']} cores, Python {m['python']}, load average before the run "
         f"{m['load_before'][0]:.2f}. Corpus: `{report['corpus']['dir']}` ({corpus_asked}, "
         f"seed {report['corpus']['seed']}): {fig['files']} pages, {fig['chars']:,} decoded characters, "
         f"{fig['speeches']} speeches, {fig['verified_pairs']} verified pairs, {fig['true_family_pairs']} true family "
         f"pairs. Mode `{mode}`; LSH threshold {report['threshold']}, {report['num_perm']} permutations."),
        "",
    ]
    if report.get("warning"):
        lines += [f"**Warning: {report['warning']}.**", ""]
    lines += [f"Code: {report.get('git') or 'not a git tree'}, dupspeech sources {report.get('source')}"
              + (f"; `jobs={report['jobs']}`" if report.get("jobs") else "") + ".", ""]
    if report.get("jobs_note"):
        lines += [report["jobs_note"] + ".", ""]
    comp, load = report.get("compile") or {}, (report["runs"].get("dupspeech") or {}).get("kernels_load")
    if comp.get("available") and load:
        lines += [f"Compiled kernels (numba): compiling them into the on-disk cache took {comp['wall']:.1f} s in a "
                  f"child of its own (about 20 s after an install, a fraction of a second once cached); each "
                  f"dupspeech run then loaded them before its clock and memory baseline in {load['wall']:.2f} s, "
                  f"adding {_mib(load['rss'])} MiB once (fixed, not per speech).", ""]
    for key, why in report["skipped"].items():
        lines += [f"Baseline ({key}) skipped: {why}.", ""]
    if report.get("repeat", 1) > 1:
        walls = "; ".join(f"{key} {', '.join(f'{w:.2f}' for w in run['walls'])}"
                          for key, run in runs.items() if run.get("walls"))
        lines += [f"Every timed run was made {report['repeat']} times, each in a fresh process, the runs taking "
                  f"turns; the tables show the run of median wall time (all wall times, s: {walls}).", ""]
    labels = {
        "dupspeech": "dupspeech cluster" + (" (provenance)" if report["provenance"] else " --no-provenance"),
        "dupspeech_noprov": "dupspeech cluster --no-provenance",
        "a": BASELINE_LABELS["a"] + (", char 5-grams" if mode == "char" else ", jieba word 3-grams"),
        "b": BASELINE_LABELS["b"] + (", char 5-grams" if mode == "char" else ", jieba word 3-grams"),
        "scaling": "dupspeech cluster, corpus x2",
    }
    lines += [
        ("| run | wall s | CPU s | M chars/s | M chars/s per core | peak RSS MiB | beyond text, KiB/speech "
         "| pairs | recall of verified pairs | true family pairs found |"),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, row in fig["rows"].items():
        recall = "—" if row["recall_of_verified"] is None else f"{row['recall_of_verified']:.3f}"
        lines.append(
            f"| {labels.get(key, key)} | {row['wall']:.2f} | {row['cpu']:.2f} | {row['chars_per_s'] / 1e6:.3f} "
            f"| {row['chars_per_cpu_s'] / 1e6:.3f} | {_mib(row['peak_rss'])} | {row['beyond_text_per_speech'] / 1024:.1f} "
            f"| {row['pairs']} | {recall} | {row['true_pairs_found']:.3f} |"
        )
    lines += ["", "Pairs: verified pairs for dupspeech, unverified LSH candidates for the baselines.", ""]

    dup = runs["dupspeech"]
    scaling = fig.get("scaling", {}).get("stages", {})
    total = dup["wall"]
    lines += ["### dupspeech stages", "",
              "| stage | seconds | share | peak RSS above start, MiB | x2 corpus time ratio |", "|---|---|---|---|---|"]
    for s in [*[s for s in STAGES if s in dup["stages"]], *[s for s in dup["stages"] if s not in STAGES]]:
        sec = dup["stages"][s]
        lines.append(f"| {s} | {sec:.3f} | {100 * sec / total:.1f} % | {_mib(dup['peak_after_stage'].get(s, 0))} "
                     f"| {scaling[s]:.2f} |" if s in scaling else
                     f"| {s} | {sec:.3f} | {100 * sec / total:.1f} % | {_mib(dup['peak_after_stage'].get(s, 0))} | |")
    other = total - sum(dup["stages"].values())
    lines.append(f"| other (result objects) | {other:.3f} | {100 * other / total:.1f} % | | |")
    ratio = f" | {fig['scaling']['time_ratio']:.2f} (chars x{fig['scaling']['chars_ratio']:.2f})" if "scaling" in fig \
        else " | "
    lines += [f"| **total** | **{total:.3f}** | 100 % | {_mib(dup['peak_rss'] - dup['base_rss'])}{ratio} |", ""]
    lines += ["| " + " | ".join(GROUPS) + " |", "|" + "---|" * len(GROUPS)]
    lines.append("| " + " | ".join(f"{sum(dup['stages'].get(s, 0.0) for s in parts):.3f}"
                                    for parts in GROUPS.values()) + " |")
    lines.append("")
    base_rows = [k for k in ("a", "b") if k in runs]
    if base_rows:
        lines += ["### Baseline stages (seconds)", "", "| run | shingle | minhash | lsh | total |", "|---|---|---|---|---|"]
        for k in base_rows:
            st = runs[k]["stages"]
            lines.append(f"| {labels[k]} | {st['shingle']:.3f} | {st['minhash']:.3f} | {st['lsh']:.3f} "
                         f"| {runs[k]['wall']:.3f} |")
        lines.append(f"| dupspeech normalize+shingle+minhash+lsh | {dup['stages'].get('normalize', 0) + dup['stages'].get('shingle', 0):.3f} "
                     f"| {dup['stages'].get('minhash', 0):.3f} | {dup['stages'].get('lsh', 0):.3f} "
                     f"| {fig['dupspeech_match_stages']:.3f} |")
        lines += ["", "| speed-up of dupspeech (baseline time / dupspeech time) | (a) | (b) |", "|---|---|---|"]
        for label, suffix in (("end to end", ""), ("end to end, --no-provenance", "_noprov"),
                              ("same work only (normalize+shingle+minhash+lsh)", "_match_stages")):
            cells = []
            for k in ("a", "b"):
                v = fig.get(f"speedup_{k}{suffix}")
                cells.append(f"{v:.2f}x" if v else "—")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    if "tokenizers" in runs:
        t = runs["tokenizers"]
        lines += ["### Tokenizers (word mode)", "", "| tokenizer | seconds | M chars/s |", "|---|---|---|",
                  f"| jieba.lcut (HMM) | {t['jieba_seconds']:.2f} | {t['chars'] / t['jieba_seconds'] / 1e6:.3f} |"]
        if t.get("rjieba_seconds"):
            lines += [f"| rjieba.cut | {t['rjieba_seconds']:.2f} | {t['chars'] / t['rjieba_seconds'] / 1e6:.3f} |", "",
                      (f"Agreement of rjieba with jieba: token boundary F1 {t['boundary_f1']:.4f}; identical "
                       f"segmentation for {100 * t['identical_share']:.1f} % of speeches; word 3-gram set Jaccard "
                       f"mean {t['word3_jaccard_mean']:.4f}, min {t['word3_jaccard_min']:.4f}.")]
        else:
            lines += ["", f"rjieba not installed ({t.get('rjieba_missing')})."]
        lines.append("")
    lines += ["### Targets", "", "| target | measured | met |", "|---|---|---|"]
    for t in fig["targets"]:
        lines.append(f"| {t['target']} | {t['shown']} | {'yes' if t['met'] else 'no'} |")
    if report.get("tracemalloc"):
        tm = report["tracemalloc"]
        lines += ["", "### tracemalloc (Python and numpy allocations) of the dupspeech run", "",
                  f"Traced peak {tm['peak'] / MIB:.1f} MiB.", "",
                  "| stage | traced at its end, MiB | traced peak inside it, MiB |", "|---|---|---|"]
        for stage, (cur, peak) in tm["stages"].items():
            lines.append(f"| {stage} | {cur / MIB:.1f} | {peak / MIB:.1f} |")
        lines += ["", f"Largest allocation sites when {tm['largest'] / MIB:.1f} MiB were traced:", "", "```",
                  *tm["top"], "```"]
    if "profile" in report:
        lines += ["", "### cProfile of the dupspeech run, by own time", "", "```",
                  report["profile"]["tottime"], "```", "", "### by cumulative time", "", "```",
                  report["profile"]["cumulative"], "```"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        return child_main(argv[1], argv[2])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--size", help="approximate corpus size (10MB, 500KB); default 10MB")
    which.add_argument("--families", type=int, help="make the corpus of this many families instead of a size")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument("--no-gov-reports", action="store_true",
                    help="synthesise all text (generate.py --no-gov-reports), so the corpus twice the size has the "
                         "same mix of speeches (with the reports, the default, it has more synthesised ones)")
    ap.add_argument("--mode", choices=("char", "word"), default="char", help="shingle mode (default char)")
    ap.add_argument("--no-provenance", action="store_true", help="run dupspeech without passage alignment only")
    ap.add_argument("--baselines", default="a,b",
                    help="comma-separated baselines to run: a (datasketch), b (rensa); '' for none (default a,b)")
    ap.add_argument("--jobs", type=int, default=None, help="worker processes for dupspeech, where it supports them")
    ap.add_argument("--scaling", action=argparse.BooleanOptionalAction, default=True,
                    help="also run dupspeech on a corpus twice the size (default on)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each timed run this many times (fresh processes, taking turns) and report the one of "
                         "median wall time, listing all (default 1)")
    ap.add_argument("--profile", action="store_true", help="also run dupspeech under cProfile and show the top")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="also run dupspeech under tracemalloc: traced memory per stage and the largest allocation sites")
    ap.add_argument("--profile-top", type=int, default=25, help="functions shown by --profile (default 25)")
    ap.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help=f"where corpora are cached (default {DEFAULT_CACHE})")
    ap.add_argument("--out", help="also write every figure and raw measurement to this JSON file")
    args = ap.parse_args(argv)
    args.argv = argv
    args.baselines = [b.strip() for b in args.baselines.split(",") if b.strip()]
    unknown = [b for b in args.baselines if b not in BASELINES]
    if unknown:
        ap.error(f"unknown baseline(s) {', '.join(unknown)}: choose from a, b")
    if args.jobs is not None and args.jobs < 1:
        ap.error("--jobs must be >= 1")
    report = run_bench(args)
    print(markdown(report), end="")
    if args.out:
        Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
