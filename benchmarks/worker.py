"""One contender on one workload, in its own process; `run.py` drives it over stdin/stdout.

    python benchmarks/worker.py CONTENDER WORKLOAD --samples N [--device cuda]

Contenders: `netknit`, `netknit-jit` (`compile(jit_compile=True)`), `torch` (hand-written module
and loop), `keras-torch` and `keras-jax` (Keras 3 with that backend; the backend is fixed per
process, so each runs in its own). On start the worker builds the model, times the first training
step (build + compile + one batch), warms up and answers `@@ {"ready": ...}`. Each `round` line
on stdin then times one `fit` epoch and one `predict` pass over the same data; `stats` reports
peak memory; `quit` ends it. With `--scaling EPOCHS` it instead trains that many epochs on
`--samples` samples and reports the time and memory of each. `--device` is where netknit and
the hand-written module run (Keras picks the GPU itself when its backend sees one).

Protocol lines start with `@@ ` so that anything a library prints on stdout is ignored.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workloads import WORKLOADS  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def head(x, n):
    return [a[:n] for a in x] if isinstance(x, list) else x[:n]


class KerasRunner:
    """netknit or Keras 3: the workload's Keras code, `fit` and `predict` as a user calls them."""

    def __init__(self, workload, keras, **compile_kwargs):
        self.workload = workload
        self.model = workload.build(keras)
        self.model.compile(optimizer=workload.optimizer, loss=workload.loss, **compile_kwargs)

    def fit(self, x, y, epochs=1):
        self.model.fit(x, y, batch_size=self.workload.batch_size, epochs=epochs, verbose=0,
                       shuffle=True)

    def predict(self, x):
        return self.model.predict(x, batch_size=self.workload.batch_size, verbose=0)


class TorchRunner:
    """The hand-written PyTorch version: an `nn.Module`, `torch.optim` and a plain loop.

    The loop does what a careful PyTorch user writes: data as tensors on the device once per
    `fit` (as netknit moves in-memory arrays), a new permutation per epoch, batches by index, the
    running loss summed on the device (as Keras's loss tracker does).
    """

    def __init__(self, workload, device):
        import torch

        self.torch = torch
        self.workload = workload
        self.device = torch.device(device)
        self.module, self.loss_fn = workload.torch_module()
        self.module.to(self.device)
        params = self.module.parameters()
        if workload.optimizer == "adam":
            self.optimizer = torch.optim.Adam(params, lr=1e-3, eps=1e-7)
        else:
            self.optimizer = torch.optim.SGD(params, lr=0.01)

    def _tensors(self, x):
        if isinstance(x, list):
            return [self.torch.from_numpy(a).to(self.device) for a in x]
        return self.torch.from_numpy(x).to(self.device)

    @staticmethod
    def _take(x, index):
        return [a[index] for a in x] if isinstance(x, list) else x[index]

    def fit(self, x, y, epochs=1):
        torch = self.torch
        x, y = self._tensors(x), self._tensors(y)
        size, batch = len(y), self.workload.batch_size
        self.module.train()
        for _ in range(epochs):
            running_loss = torch.zeros((), device=self.device)
            order = torch.randperm(size, device=self.device)
            for start in range(0, size, batch):
                index = order[start:start + batch]
                loss = self.loss_fn(self.module(self._take(x, index)), y[index])
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                running_loss += loss.detach()
            float(running_loss)

    def predict(self, x):
        torch = self.torch
        x = self._tensors(x)
        size = len(x[0]) if isinstance(x, list) else len(x)
        self.module.eval()
        with torch.inference_mode():
            outputs = [
                self.module(self._take(x, slice(start, start + self.workload.batch_size)))
                for start in range(0, size, self.workload.batch_size)
            ]
        return torch.cat(outputs).cpu().numpy()


def load_library(contender: str):
    """The contender's library, imported (before the memory baseline is taken)."""
    if contender == "torch":
        import torch

        return torch
    if contender in ("netknit", "netknit-jit"):
        import netknit

        return netknit
    if contender.startswith("keras-"):
        import keras

        expected = contender.removeprefix("keras-")
        if keras.backend.backend() != expected:
            raise RuntimeError(f"Keras runs on {keras.backend.backend()}, expected {expected}")
        return keras
    raise ValueError(f"Unknown contender {contender!r}")


def make_runner(contender: str, workload, device: str):
    library = load_library(contender)
    if contender == "torch":
        return TorchRunner(workload, device)
    if contender.startswith("netknit"):
        return KerasRunner(workload, library, jit_compile=contender == "netknit-jit",
                           device=device)
    return KerasRunner(workload, library)


def gpu_peak_mb(contender: str):
    """Peak GPU memory of a torch-based contender (None on the CPU or under JAX)."""
    if contender == "keras-jax":
        return None
    import torch

    if not torch.cuda.is_initialized():
        return None
    return torch.cuda.max_memory_allocated() / 2**20


def say(**message) -> None:
    print("@@ " + json.dumps(message), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("contender")
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--samples", type=int, required=True)
    parser.add_argument("--scaling", type=int, default=0, metavar="EPOCHS")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    workload = WORKLOADS[args.workload]

    load_library(args.contender)
    baseline = rss_mb()
    x, y = workload.data(args.samples)
    # 1. Time to first step: build, compile, one batch of training.
    start = time.perf_counter()
    runner = make_runner(args.contender, workload, args.device)
    runner.fit(head(x, workload.batch_size), y[:workload.batch_size])
    first_step = time.perf_counter() - start
    if args.scaling:
        epochs = []
        for _ in range(args.scaling):
            start = time.perf_counter()
            runner.fit(x, y)
            epochs.append({"seconds": time.perf_counter() - start, "rss_mb": rss_mb()})
        say(epochs=epochs, baseline_mb=baseline, peak_mb=peak_rss_mb())
        return
    # 2. Warm up (compiled contenders compile fit and predict here), then serve rounds.
    runner.fit(x, y)
    runner.predict(x)
    say(ready=True, first_step=first_step)
    for line in sys.stdin:
        command = line.strip()
        if command == "round":
            start = time.perf_counter()
            runner.fit(x, y)
            middle = time.perf_counter()
            runner.predict(x)
            say(fit=middle - start, predict=time.perf_counter() - middle)
        elif command == "stats":
            say(baseline_mb=baseline, peak_mb=peak_rss_mb(),
                gpu_peak_mb=gpu_peak_mb(args.contender))
        elif command == "quit":
            return


if __name__ == "__main__":
    main()
