"""Benchmark the text pipeline: jieba throughput, the spam experiment uncached vs cached, peak memory.

Example: python benchmarks/bench_text.py            (spam SVM, a fresh cache and store under a temp dir)
         python benchmarks/bench_text.py --model keyword
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def jieba_throughput(cache_dir: Path) -> dict[str, float]:
    """Texts per second of the project tokenizer on the 50k spam SMS: first (jieba), then cached pass."""
    from src.config import compose
    from src.experiment import load_task
    from src.features.text import JiebaTokenizer

    data = load_task(compose(["task=spam"]))
    texts = data.X["text"].tolist()
    out: dict[str, float] = {"texts": float(len(texts))}
    for label in ("uncached", "cached"):
        JiebaTokenizer.clear_memo()  # in-process memo off: the second pass reads the on-disk cache
        tokenizer = JiebaTokenizer(cache_dir=str(cache_dir)).fit(None)
        start = time.perf_counter()
        tokenizer.transform(texts)
        seconds = time.perf_counter() - start
        out[f"{label}_s"] = seconds
        out[f"{label}_texts_per_s"] = len(texts) / seconds
    return out


def experiment_time(model: str, root: Path) -> float:
    """Wall time of `python -m src.run task=spam model=<model>` in a fresh process."""
    cmd = [
        sys.executable, "-m", "src.run", "task=spam", f"model={model}",
        f"paths.cache_dir={root / 'cache'}", f"paths.mlruns_dir={root / 'mlruns'}",
        "hydra.run.dir=" + str(root / "hydra"),
    ]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="svm", help="model of the spam experiment (default svm)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    from src.reports.bench_page import record

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        tokens = jieba_throughput(root / "tok")
        first = experiment_time(args.model, root)
        second = experiment_time(args.model, root)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| step | value |\n|---|---|")
    print(f"| jieba, {int(tokens['texts']):,} SMS, uncached | {tokens['uncached_s']:.1f} s "
          f"({tokens['uncached_texts_per_s']:,.0f} texts/s) |")  # fmt: skip
    print(f"| same texts from the token cache | {tokens['cached_s']:.2f} s "
          f"({tokens['cached_texts_per_s']:,.0f} texts/s) |")  # fmt: skip
    print(f"| spam/{args.model} experiment, empty cache | {first:.1f} s |")
    print(f"| spam/{args.model} experiment, warm cache | {second:.1f} s ({first / second:.2f}x faster) |")
    print(f"| peak RSS, experiment process | {children:,.0f} MiB |")
    print(f"| peak RSS, tokenizer benchmark | {own:,.0f} MiB |")
    figures = [
        ("SMS tokenised", int(tokens["texts"])), ("jieba, uncached: s", round(tokens["uncached_s"], 1)),
        ("token cache: s", round(tokens["cached_s"], 2)),
        (f"spam/{args.model} experiment, empty cache: s", round(first, 1)),
        (f"spam/{args.model} experiment, warm cache: s", round(second, 1)),
        ("peak RSS MiB, experiment process", round(children)),
    ]  # fmt: skip
    record("text", figures, load_before)


if __name__ == "__main__":
    main()
