"""`launch`: run a function on N local processes joined in a process group, e.g. from a notebook."""

from __future__ import annotations

import os
import pickle
import socket
import threading
from collections.abc import Callable

import torch
import torch.multiprocessing as mp

from .process_group import _destroy_process_group, _initialized, ensure_process_group


def launch(fn: Callable, nprocs: int = 2, *args, start_method: str | None = None) -> list:
    """Runs `fn(*args)` in `nprocs` processes on this machine, as `torchrun` would; returns the
    results, ordered by rank.

    Each process gets torchrun's environment (`RANK`, `LOCAL_RANK`, `WORLD_SIZE`, `MASTER_ADDR`,
    `MASTER_PORT` on a free localhost port) and an initialized process group (gloo for CPU
    tensors, NCCL for CUDA ones), so `model.fit(...)` inside `fn` trains data-parallel. Results
    travel back pickled: return NumPy arrays or numbers rather than large tensors.

    Args:
        fn: the function to run in every process.
        nprocs: how many processes, e.g. one per GPU.
        *args: arguments passed to `fn`.
        start_method: `"fork"` or `"spawn"`. By default `"fork"` where the platform has it,
            no GPU is visible and no other Python thread runs in this process (it then runs
            functions defined in a notebook), else `"spawn"` (`fn` must then be importable from
            a module). A forked child cannot use CUDA once its parent has asked for the GPUs,
            and forking while other threads hold locks (torch.compile's compile workers, for
            one) can deadlock the children.

    >>> def train(epochs):
    ...     model = build_model()
    ...     model.fit(x, y, epochs=epochs, verbose=0)
    ...     return model.get_weights()
    >>> weights_by_rank = launch(train, 2, 3)
    """
    if not isinstance(nprocs, int) or isinstance(nprocs, bool) or nprocs < 1:
        raise ValueError(f"Expected a positive integer for nprocs. Received: nprocs={nprocs!r}")
    if _initialized():
        raise RuntimeError(
            "launch() starts a new group of processes; call it from a process that is not already "
            "part of a process group (e.g. not under torchrun)."
        )
    if start_method is None:
        can_fork = (
            "fork" in mp.get_all_start_methods()
            and not torch.cuda.is_available()
            and threading.active_count() == 1
        )
        start_method = "fork" if can_fork else "spawn"
    if start_method == "spawn":
        # Checked before any process starts: a process already waiting for its peers would
        # otherwise be left behind when a later one cannot be started.
        try:
            pickle.dumps((fn, args))
        except Exception as error:
            raise ValueError(
                f"launch() starts new Python processes here ('spawn'), which must import `fn` "
                f"({getattr(fn, '__qualname__', fn)!r}) and its arguments by name, and cannot: "
                f"{error}. Define the function at the top level of a module, or pass "
                "start_method='fork' (where the platform has it)."
            ) from error
    results_queue = mp.get_context(start_method).SimpleQueue()
    processes = mp.start_processes(
        _run_in_process, (fn, nprocs, _free_port(), results_queue, args), nprocs=nprocs,
        join=False, start_method=start_method,
    )
    results = {}
    # Drain while waiting: a process writing a large result blocks until it is read.
    while not processes.join(timeout=0.1):
        _drain(results_queue, results)
    _drain(results_queue, results)
    return [results[index] for index in range(nprocs)]


def _run_in_process(index, fn, nprocs, port, results_queue, args):
    os.environ.update(
        RANK=str(index), LOCAL_RANK=str(index), WORLD_SIZE=str(nprocs),
        LOCAL_WORLD_SIZE=str(nprocs), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
    )
    if "OMP_NUM_THREADS" not in os.environ:
        # As torchrun does: processes sharing the cores should not each use all of them.
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // nprocs))
    ensure_process_group()
    try:
        result = fn(*args)
        results_queue.put((index, pickle.dumps(result)))
    finally:
        _destroy_process_group()


def _drain(results_queue, results: dict) -> None:
    while not results_queue.empty():
        index, payload = results_queue.get()
        results[index] = pickle.loads(payload)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
