"""netknit against plain PyTorch and Keras 3: training and inference throughput, one table.

    python benchmarks/run.py                      # the full suite (a few minutes on 2 cores)
    python benchmarks/run.py --quick              # a smoke run: few steps, one repeat
    python benchmarks/run.py --scaling            # epoch time and memory as the data grows
    python benchmarks/run.py --device cuda        # on a GPU, with larger batches of W2 and W4

Every contender runs in its own worker process (`worker.py`), one per workload at a time; the
rounds are interleaved (round r of every contender before round r + 1 of any) and rotated, so a
noisy neighbour slows all of them alike. The whole is done with several sets of fresh processes
(`--processes`), because a process's speed on these machines depends on its own luck too (the
same worker, restarted, can run a convolution 2x faster or slower). Reported: median samples/s
of `fit` and `predict` over all rounds, their ratio to plain PyTorch, the time to the first
training step (build + compile + first batch) and the worker's peak resident memory (its total,
and above the interpreter with its libraries loaded; on a GPU also the peak GPU memory that torch
allocated), medians over the sets. A contender whose interpreter or library is missing is
skipped, with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from workloads import LARGE_BATCH, WORKLOADS  # noqa: E402

CONTENDERS = ["netknit", "torch", "netknit-jit", "keras-torch", "keras-jax"]


class Worker:
    """A `worker.py` process for one contender and one workload."""

    def __init__(self, python: str, contender: str, workload: str, samples: int, env: dict,
                 extra: tuple = (), device: str = "cpu"):
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [python, str(HERE / "worker.py"), contender, workload, "--samples", str(samples),
             "--device", device, *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=env,
        )

    def read(self) -> dict:
        for line in self.process.stdout:
            if line.startswith("@@ "):
                return json.loads(line[3:])
        self.process.wait()
        self.stderr.seek(0)
        lines = [line for line in self.stderr.read().splitlines() if line.strip()]
        raise RuntimeError(lines[-1] if lines else f"exit status {self.process.returncode}")

    def ask(self, command: str) -> dict:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write("quit\n")
                self.process.stdin.flush()
            except BrokenPipeError:
                pass
            self.process.wait()
        self.stderr.close()


def interpreters(args) -> dict:
    return {
        "netknit": sys.executable,
        "netknit-jit": sys.executable,
        "torch": sys.executable,
        "keras-torch": args.keras_torch_python,
        "keras-jax": args.keras_jax_python,
    }


def environment(contender: str) -> dict:
    env = dict(os.environ)
    if contender.startswith("keras-"):
        env["KERAS_BACKEND"] = contender.removeprefix("keras-")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def benchmark(args) -> list[dict]:
    """Rows of results: one per workload and contender (skipped ones carry the reason)."""
    rows = []
    pythons = interpreters(args)
    for key in args.workloads:
        workload = WORKLOADS[key]
        steps = 2 if args.quick else workload.steps_per_round
        samples = steps * workload.batch_size
        results = {c: {"workload": key, "contender": c, "fit": [], "predict": [],
                       "first_step": [], "peak_mb": [], "baseline_mb": [], "gpu_peak_mb": []}
                   for c in args.contenders}
        for _ in range(args.processes):
            _one_set_of_workers(args, pythons, key, samples, results)
        for result in results.values():
            for name in ("first_step", "peak_mb", "baseline_mb", "gpu_peak_mb"):
                values = [v for v in result[name] if v is not None]
                result[name] = statistics.median(values) if values else None
        rows.extend(results.values())
        print(f"# {key} done", file=sys.stderr, flush=True)
    return rows


def _one_set_of_workers(args, pythons, key, samples, results) -> None:
    """Fresh workers for every contender, then `args.repeats` interleaved rounds: a process's
    own luck (which cores its threads land on, how its memory is laid out) changes between
    processes, so the medians pool the rounds of several sets."""
    workers = {}
    # 1. Start the workers one after another, so each time to first step is measured alone.
    for contender in args.contenders:
        python = pythons[contender]
        if not python or not Path(python).exists():
            results[contender]["skipped"] = f"no interpreter ({python})"
            continue
        if "skipped" in results[contender]:
            continue
        worker = Worker(python, contender, key, samples, environment(contender),
                        device=args.device)
        try:
            results[contender]["first_step"].append(worker.read()["first_step"])
            workers[contender] = worker
        except RuntimeError as error:
            results[contender]["skipped"] = str(error)[:120]
            worker.close()
    # 2. Interleaved, rotated rounds.
    order = list(workers)
    for repeat in range(args.repeats):
        shift = repeat % max(len(order), 1)
        for contender in order[shift:] + order[:shift]:
            answer = workers[contender].ask("round")
            results[contender]["fit"].append(samples / answer["fit"])
            results[contender]["predict"].append(samples / answer["predict"])
    for contender, worker in workers.items():
        answer = worker.ask("stats")
        results[contender]["peak_mb"].append(answer["peak_mb"])
        results[contender]["baseline_mb"].append(answer["baseline_mb"])
        results[contender]["gpu_peak_mb"].append(answer.get("gpu_peak_mb"))
        worker.close()


def format_table(rows: list[dict]) -> str:
    gpu = any(r.get("gpu_peak_mb") is not None for r in rows)
    header = ("| workload | contender | fit samples/s | × torch | predict samples/s | × torch | "
              "first step s | peak MB (above import) |" + (" GPU peak MB |" if gpu else ""))
    columns = 9 if gpu else 8
    lines = [header, "|" + "---|" * columns]
    for key in dict.fromkeys(r["workload"] for r in rows):
        group = [r for r in rows if r["workload"] == key]
        base = next((r for r in group if r["contender"] == "torch" and r["fit"]), None)
        for row in group:
            if "skipped" in row:
                lines.append(f"| {key} | {row['contender']} | skipped: {row['skipped']} |"
                             + " |" * (columns - 3))
                continue
            fit = statistics.median(row["fit"])
            predict = statistics.median(row["predict"])
            fit_ratio = predict_ratio = "–"
            if base is not None:
                fit_ratio = f"{fit / statistics.median(base['fit']):.2f}"
                predict_ratio = f"{predict / statistics.median(base['predict']):.2f}"
            line = (
                f"| {key} | {row['contender']} | {fit:,.0f} | {fit_ratio} | {predict:,.0f} | "
                f"{predict_ratio} | {row['first_step']:.2f} | {row['peak_mb']:,.0f} "
                f"({row['peak_mb'] - row['baseline_mb']:,.0f}) |"
            )
            if gpu:
                gpu_peak = row["gpu_peak_mb"]
                line += " – |" if gpu_peak is None else f" {gpu_peak:,.0f} |"
            lines.append(line)
    return "\n".join(lines)


def scaling(args) -> str:
    """netknit's epoch time and memory on W1 with 1x, 10x and 100x the data (two epochs each)."""
    workload = WORKLOADS["W1"]
    base = (2 if args.quick else 50) * workload.batch_size
    lines = ["| samples | data MB | epoch 1 s | epoch 2 s | µs / sample | RSS after epoch 1 / 2 MB "
             "| peak above import MB |", "|" + "---|" * 7]
    for factor in (1, 10, 100):
        samples = base * factor
        worker = Worker(sys.executable, "netknit", "W1", samples, environment("netknit"),
                        extra=("--scaling", "2"), device=args.device)
        answer = worker.read()
        worker.close()
        data_mb = samples * (784 + 10) * 4 / 2**20
        first, second = answer["epochs"]
        lines.append(
            f"| {samples:,} | {data_mb:,.0f} | {first['seconds']:.2f} | {second['seconds']:.2f} | "
            f"{second['seconds'] / samples * 1e6:.1f} | {first['rss_mb']:,.0f} / "
            f"{second['rss_mb']:,.0f} | {answer['peak_mb'] - answer['baseline_mb']:,.0f} |"
        )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few steps and one repeat")
    parser.add_argument("--repeats", type=int, default=None,
                        help="rounds per contender in each set of processes (3)")
    parser.add_argument("--processes", type=int, default=None,
                        help="sets of fresh worker processes per workload (3)")
    parser.add_argument("--workloads", default=None,
                        help="comma-separated, e.g. W1,W5 (default: W1-W5, and on a GPU also "
                             f"{' and '.join(LARGE_BATCH)}, the CNNs with larger batches)")
    parser.add_argument("--device", default="cpu",
                        help="where netknit and the hand-written module run, e.g. cuda")
    parser.add_argument("--contenders", default=",".join(CONTENDERS),
                        help=f"comma-separated, from {','.join(CONTENDERS)}")
    parser.add_argument("--keras-torch-python", default=sys.executable,
                        help="interpreter with Keras 3 and torch (default: this one)")
    parser.add_argument("--keras-jax-python", default="/tmp/kjax/bin/python",
                        help="interpreter with Keras 3 and JAX")
    parser.add_argument("--scaling", action="store_true",
                        help="also measure epoch time and memory with 10x and 100x the data")
    args = parser.parse_args(argv)
    if args.workloads is None:
        args.workloads = ",".join(k for k in WORKLOADS
                                  if args.device != "cpu" or k not in LARGE_BATCH)
    args.workloads = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    args.contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    unknown = [w for w in args.workloads if w not in WORKLOADS] + [
        c for c in args.contenders if c not in CONTENDERS
    ]
    if unknown:
        parser.error(f"unknown workload(s) or contender(s): {unknown}")
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.processes is None:
        args.processes = 1 if args.quick else 3
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    print(format_table(benchmark(args)), flush=True)
    if args.scaling:
        print()
        print(scaling(args), flush=True)


if __name__ == "__main__":
    main()
