"""Data-parallel scaling: `fit` samples/s of W1 and W4 with 1 and 2 processes on this machine's
CPU cores (gloo; the models are compiled with `device="cpu"` also where a GPU is visible).

    python benchmarks/distributed_scaling.py            # W1 and W4, 3 repeats (about 2 minutes)
    python benchmarks/distributed_scaling.py --quick    # a smoke run: few steps, one repeat

Weak scaling, as data-parallel training is used: every process trains on the workload's batch
size, so N processes step through N times the samples per step. Each configuration runs in fresh
processes started by `netknit.distributed.launch`; the repeats are interleaved so that a noisy
neighbour slows every configuration alike. Throughput is the median over repeats of the samples
of all processes per second of a training epoch (the first epoch, with its warm-up, is not
timed).

Configurations: one process on all cores; one process on one core; one process per core (two
processes with one thread each). Reported: the speed-up of two processes over one process on all
cores, and the scaling efficiency, two processes' throughput over twice that of one process on one
core (1.0 when the second process adds as much as the first).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
from workloads import WORKLOADS

import netknit as keras
from netknit import distributed

STEPS = {"W1": 40, "W4": 6}


class _EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.durations = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.durations.append(time.perf_counter() - self._start)


def measure(key: str, steps: int, threads: int, epochs: int) -> float:
    """Samples/s of all processes together in one training epoch (run in every process)."""
    torch.set_num_threads(threads)
    keras.utils.set_random_seed(0)
    workload = WORKLOADS[key]
    samples = workload.batch_size * steps * distributed.world_size()
    x, y = workload.data(samples)
    model = workload.build(keras)
    model.compile(optimizer=workload.optimizer, loss=workload.loss, device="cpu")
    timer = _EpochTimer()
    model.fit(x, y, batch_size=workload.batch_size, epochs=epochs, shuffle=True, verbose=0,
              callbacks=[timer])
    return samples / statistics.median(timer.durations[1:])


CONFIGURATIONS = {
    # name: (processes, threads per process)
    "1 process, all cores": (1, None),
    "1 process, 1 core": (1, 1),
    "2 processes, 1 core each": (2, 1),
}


def run(keys: list[str], repeats: int, quick: bool) -> dict:
    cores = torch.get_num_threads()
    results = {key: {name: [] for name in CONFIGURATIONS} for key in keys}
    for _ in range(repeats):
        for key in keys:
            steps = 2 if quick else STEPS[key]
            for name, (processes, threads) in CONFIGURATIONS.items():
                values = distributed.launch(measure, processes, key, steps, threads or cores,
                                            2 if quick else 3)
                results[key][name].append(values[0])
    return {key: {name: statistics.median(v) for name, v in by_name.items()}
            for key, by_name in results.items()}


def table(results: dict) -> str:
    lines = [
        ("| Workload | 1 process, all cores | 1 process, 1 core | 2 processes, 1 core each "
         "| speed-up vs 1 process | scaling efficiency |"),
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, by_name in results.items():
        whole, one_core, two = (by_name[name] for name in CONFIGURATIONS)
        lines.append(
            f"| {key} {WORKLOADS[key].title} | {whole:,.0f} | {one_core:,.0f} | {two:,.0f} "
            f"| {two / whole:.2f}x | {two / (2 * one_core):.0%} |"
        )
    return "\n".join(lines)


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=["W1", "W4"], choices=sorted(STEPS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="few steps and one repeat")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    text = table(run(args.workloads, repeats, args.quick))
    print(f"fit samples/s, median of {repeats} repeat(s); {torch.get_num_threads()} cores, "
          f"torch {torch.__version__}")
    print(text)
    return text


if __name__ == "__main__":
    main()
