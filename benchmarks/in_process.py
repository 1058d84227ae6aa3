"""netknit (eager and `jit_compile=True`) against the hand-written PyTorch loop, in one process.

    python benchmarks/in_process.py W5 --rounds 7 [--device cuda]

The three contenders of `run.py` that run on torch share one process here, rounds interleaved
(a `fit` epoch, then `predict`, for each in turn; medians), so the per-process luck that moves
`run.py`'s cells between runs on these machines does not enter the ratios. Printed: µs per
training step and `predict` samples/s, each with its ratio to plain PyTorch (for µs per step,
torch's time over the contender's, so that above 1 is faster).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from worker import head, make_runner  # noqa: E402
from workloads import WORKLOADS  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps per round (default: the workload's, as in run.py)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    workload = WORKLOADS[args.workload]
    steps = args.steps or workload.steps_per_round
    samples = steps * workload.batch_size
    x, y = workload.data(samples)
    runners = {name: make_runner(name, workload, args.device)
               for name in ("netknit", "netknit-jit", "torch")}
    for runner in runners.values():  # build, compile and warm up, as run.py's workers do
        runner.fit(head(x, workload.batch_size), y[:workload.batch_size])
        runner.fit(x, y)
        runner.predict(x)
    step_us = {name: [] for name in runners}
    predict = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, runner in runners.items():
            start = time.perf_counter()
            runner.fit(x, y)
            middle = time.perf_counter()
            runner.predict(x)
            step_us[name].append((middle - start) / steps * 1e6)
            predict[name].append(samples / (time.perf_counter() - middle))
    step_us = {k: statistics.median(v) for k, v in step_us.items()}
    predict = {k: statistics.median(v) for k, v in predict.items()}
    print(f"{args.workload}: {steps} steps of {workload.batch_size}, medians of {args.rounds} "
          "interleaved rounds in one process")
    print("| contender | fit µs / step | × torch | predict samples/s | × torch |")
    print("|---|---|---|---|---|")
    for name in runners:
        print(f"| {name} | {step_us[name]:,.1f} | {step_us['torch'] / step_us[name]:.2f} | "
              f"{predict[name]:,.0f} | {predict[name] / predict['torch']:.2f} |")


if __name__ == "__main__":
    main()
