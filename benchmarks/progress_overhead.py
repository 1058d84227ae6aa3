"""What the progress bar costs `fit`: steps/s of a tiny model with and without a bar.

The model is W5 of `workloads.py` (MLP 16-32-32-1, SGD, MSE, batch 32), whose steps are so short
that any per-step cost of the bar would show. Each setting trains one epoch of `--steps` steps:

- `verbose=0`: no bar, the reference;
- `verbose=2` into a file: one line per epoch;
- `verbose=1` into a file: the plain path (one line per epoch, more on long epochs);
- `verbose=1` on a terminal: the live bar drawn by rich, here on a stream whose `isatty()` is
  True and which writes to /dev/null.

Settings are interleaved and rotated over `--repeats` rounds; the table shows medians and the
ratio to `verbose=0`. A second measure times one redraw of the live bar on its own.

    python benchmarks/progress_overhead.py --steps 3000 --repeats 7
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
from workloads import WORKLOADS

import netknit
from netknit.training.progress import Progbar

BATCH = 32


class NullTerminal(io.TextIOWrapper):
    """/dev/null that says it is a terminal, so `fit` draws its live bar into it."""

    def isatty(self):
        return True


def streams(tmp):
    return {
        "verbose=0": (0, lambda: open(os.devnull, "w")),
        "verbose=2, file": (2, lambda: open(os.path.join(tmp, "log2.txt"), "w")),
        "verbose=1, file": (1, lambda: open(os.path.join(tmp, "log1.txt"), "w")),
        "verbose=1, terminal (rich)": (
            1, lambda: NullTerminal(open(os.devnull, "wb"), encoding="utf-8")),
    }


def time_fit(model, x, y, verbose, open_stream):
    with open_stream() as stream, contextlib.redirect_stdout(stream):
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=verbose)
        return time.perf_counter() - start


def time_redraw(redraws=2000):
    """Seconds per redraw of the live bar (interval 0: every update redraws)."""
    logs = {"loss": 0.25, "mean_absolute_error": 0.5}
    with NullTerminal(open(os.devnull, "wb"), encoding="utf-8") as stream, \
            contextlib.redirect_stdout(stream):
        bar = Progbar(redraws, interval=0, stateless_metrics=())
        start = time.perf_counter()
        for step in range(1, redraws + 1):
            bar.update(step, logs)
        return (time.perf_counter() - start) / redraws


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    workload = WORKLOADS["W5"]
    x, y = workload.data(args.steps * BATCH)
    model = workload.build(netknit)
    model.compile(optimizer="sgd", loss="mse", metrics=["mean_absolute_error"])
    with tempfile.TemporaryDirectory() as tmp:
        settings = streams(tmp)
        for verbose, open_stream in settings.values():  # warm-up, not timed
            time_fit(model, x[:20 * BATCH], y[:20 * BATCH], verbose, open_stream)
        seconds = {name: [] for name in settings}
        names = list(settings)
        for round_ in range(args.repeats):
            for name in names[round_ % len(names):] + names[:round_ % len(names)]:
                seconds[name].append(time_fit(model, x, y, *settings[name]))

    reference = args.steps / statistics.median(seconds["verbose=0"])
    print(f"W5, {args.steps} steps of batch {BATCH}, {args.repeats} interleaved rounds, "
          f"torch threads {args.threads}")
    print("| Setting | steps/s (median) | min–max | × verbose=0 |")
    print("|---|---:|---:|---:|")
    for name, times in seconds.items():
        rates = sorted(args.steps / t for t in times)
        median = statistics.median(rates)
        print(f"| {name} | {median:,.0f} | {rates[0]:,.0f}–{rates[-1]:,.0f} | "
              f"{median / reference:.3f} |")
    print(f"One live-bar redraw: {time_redraw() * 1e6:.0f} us "
          "(the bar redraws at most 10 times a second in fit)")


if __name__ == "__main__":
    main()
