"""Data-parallel `fit`, `evaluate` and `predict`: what the trainer does differently in N processes.

Every process holds a whole replica of the model on its own device and steps through its own
shard of the data. In `fit`, the training step runs the forward pass through
`DistributedDataParallel`, whose backward pass averages the gradients over the processes, so
every replica takes the same optimizer step. Metric states are sums (totals, counts, confusion
counts), so adding them over the processes gives the values of the whole data set; predictions
are gathered back into the order of the data.

Shards follow `torch.utils.data.DistributedSampler`. For training, each epoch draws one
permutation shared by all processes (seeded by rank 0, plus a count of epochs), repeats its start
so that every process gets the same number of samples, and gives process `r` the samples at
positions `r, r + N, r + 2N, ...`. For evaluation and prediction nothing is repeated: process `r`
gets samples `r, r + N, ...` (some processes hold one sample fewer), except that with fewer
samples than processes some samples are used twice so that no process is idle.
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, Sampler

from ..training.data import IterableAdapter, StepsOfPasses, TensorAdapter
from .process_group import (
    backend_tensor,
    ensure_process_group,
    is_distributed,
    local_device,
    rank,
    world_size,
)


def start_data_parallel(model) -> DataParallel | None:
    """The data-parallel state of `model` for one `fit`/`evaluate`/`predict` call, or None when
    this process runs alone. Initializes the process group and moves the model to this process's
    device."""
    vars(model).pop("_ddp", None)  # left by a call that raised
    if not is_distributed():
        return None
    return DataParallel(model)


class DataParallel:
    """One process's part of a data-parallel run over `model` (the user's model, never wrapped).

    Args:
        model: a compiled, built model.
    """

    def __init__(self, model):
        ensure_process_group()
        self.model = model
        self.rank = rank()
        self.world_size = world_size()
        self.device = local_device(model._device())
        model.to(self.device)

    def shard(self, data, training: bool):
        """This process's part of a data adapter; streams it cannot split are returned as they are
        (each process must then yield its own part)."""
        if isinstance(data, TensorAdapter):
            seed = self._shared_seed() if training and data.shuffle else 0
            return ShardedTensorAdapter(data, self.rank, self.world_size, training, seed)
        if isinstance(data, IterableAdapter) and _can_resample(data.data):
            seed = self._shared_seed() if training else 0
            return ShardedLoaderAdapter(data, self.rank, self.world_size, training, seed)
        return data

    def wrap_for_training(self) -> None:
        """Routes the training step's forward pass through `DistributedDataParallel`.

        DDP wraps a small module that calls the model the way `train_step` does; the model itself
        stays the user's object. Building DDP copies rank 0's weights to every process.
        """
        if not any(p.requires_grad for p in self.model.parameters()):
            return
        wrapped = _TrainingForward(self.model)
        # A stateful recurrent layer's carried states belong to each process's own samples: DDP
        # must not overwrite them with rank 0's, as it does buffers.
        DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(
            wrapped, [name for name, _ in wrapped.named_buffers() if "._carried_state_" in name])
        # Kept out of the model's submodules: the wrapper contains the model.
        vars(self.model)["_ddp"] = DistributedDataParallel(wrapped)

    def close(self) -> None:
        """Ends the call: the model's steps run single-process again."""
        vars(self.model).pop("_ddp", None)
        self.model._parallel = None

    def anyone(self, flag: bool) -> bool:
        """Whether `flag` is True in any process (each process must ask, at the same point)."""
        vote = backend_tensor(torch.tensor([int(flag)]))
        dist.all_reduce(vote, op=dist.ReduceOp.MAX)
        return bool(vote.item())

    def global_results(self, metrics: list) -> list:
        """Each metric's `result()` over the data of all processes; the local states are kept."""
        states = [(metric, name, value) for metric in metrics
                  for name, value in metric._variables.items()]
        if states:
            flat = torch.cat([value.detach().reshape(-1).double() for _, _, value in states])
            flat = backend_tensor(flat)
            dist.all_reduce(flat)
            offset = 0
            for metric, name, value in states:
                total = flat[offset:offset + value.numel()].reshape(value.shape)
                metric._replace_variable(name, total.to(device=value.device, dtype=value.dtype))
                offset += value.numel()
        try:
            return [metric.result() for metric in metrics]
        finally:
            for metric, name, value in states:
                metric._replace_variable(name, value)

    def gather_predictions(self, outputs: list, data) -> list:
        """The per-batch outputs of all processes as one batch, in the order of the data."""
        total = getattr(data, "total", None)
        if total is None:
            return outputs
        joined = _map(lambda *batches: torch.cat(batches), *outputs)
        counts = self._all_counts(_leaves(joined)[0].shape[0])
        length = min(total, sum(counts))
        return [_map(lambda t: self._interleave(t, max(counts), length), joined)]

    def _all_counts(self, count: int) -> list[int]:
        local = backend_tensor(torch.tensor([count]))
        counts = [torch.zeros_like(local) for _ in range(self.world_size)]
        dist.all_gather(counts, local)
        return [int(c) for c in counts]

    def _interleave(self, tensor: torch.Tensor, rows: int, length: int) -> torch.Tensor:
        padded = tensor.new_zeros((rows, *tensor.shape[1:]))
        padded[:tensor.shape[0]] = tensor
        padded = backend_tensor(padded)
        parts = [torch.empty_like(padded) for _ in range(self.world_size)]
        dist.all_gather(parts, padded)
        # Row k of process r is sample k * world_size + r.
        return torch.stack(parts, dim=1).flatten(0, 1)[:length]

    def _shared_seed(self) -> int:
        seed = [int(torch.randint(0, 2**31 - 1, ())) if self.rank == 0 else None]
        dist.broadcast_object_list(seed, src=0)
        return seed[0]


class _TrainingForward(nn.Module):
    """The model's forward pass as `train_step` runs it, for DDP to wrap."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return nn.Module.__call__(self.model, x)


def training_shard(order: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Process `rank`'s samples of `order`, repeated from its start to a multiple of
    `world_size` as `DistributedSampler` does."""
    padded = math.ceil(len(order) / world_size) * world_size
    order = order.repeat(math.ceil(padded / len(order)))[:padded]
    return order[rank::world_size]


def evaluation_shard(size: int, rank: int, world_size: int) -> torch.Tensor:
    """Samples `rank, rank + world_size, ...`; at least one per process."""
    return torch.arange(rank, max(size, world_size), world_size) % size


class ShardedTensorAdapter(TensorAdapter):
    """A `TensorAdapter` over this process's shard of in-memory tensors.

    Args:
        adapter: the adapter over all samples.
        rank, world_size: this process and the number of processes.
        training: training shards (reshuffled each epoch when `adapter.shuffle`, equal sizes) or
            evaluation shards (fixed, nothing repeated).
        seed: the seed shared by all processes for the training permutations.

    Attributes:
        total: the number of samples of all processes together.
    """

    def __init__(self, adapter: TensorAdapter, rank: int, world_size: int, training: bool,
                 seed: int):
        steps = None if adapter.num_batches == adapter.full_steps else adapter.num_batches
        super().__init__(adapter.x, adapter.y, adapter.sample_weight, adapter.batch_size,
                         adapter.shuffle, steps)
        self.total = self.size
        self.rank, self.world_size, self.seed = rank, world_size, seed
        self._epochs = 0
        if training and self.shuffle:
            self._fixed_order = None
            self.size = math.ceil(self.total / world_size)
        elif training:
            self._fixed_order = training_shard(torch.arange(self.total), rank, world_size)
        else:
            self._fixed_order = evaluation_shard(self.total, rank, world_size)
        if self._fixed_order is not None:
            self._fixed_order = self._fixed_order.to(self.device)
            self.size = len(self._fixed_order)
        self.full_steps = math.ceil(self.size / self.batch_size)
        self.num_batches = steps or self.full_steps
        # `steps_per_epoch` counts batches of this process's shard.
        self._steps = StepsOfPasses(self._one_pass, self.num_batches, self.full_steps)

    def _order(self) -> torch.Tensor:
        if self._fixed_order is not None:
            return self._fixed_order
        generator = torch.Generator().manual_seed(self.seed + self._epochs)
        self._epochs += 1
        order = torch.randperm(self.total, generator=generator)
        return training_shard(order, self.rank, self.world_size).to(self.device)


class _StridedSampler(Sampler):
    """Samples `rank, rank + world_size, ...` of a data set, for evaluation and prediction."""

    def __init__(self, size: int, rank: int, world_size: int):
        self.indices = evaluation_shard(size, rank, world_size).tolist()

    def __iter__(self):
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def _can_resample(data) -> bool:
    """A DataLoader over a map-style data set with a plain batch size: its sampler can change."""
    return (
        isinstance(data, DataLoader)
        and not isinstance(data.dataset, torch.utils.data.IterableDataset)
        and data.batch_size is not None
    )


class ShardedLoaderAdapter(IterableAdapter):
    """An `IterableAdapter` whose DataLoader draws only this process's samples.

    A DataLoader that has a `DistributedSampler` keeps it; otherwise training gets a
    `DistributedSampler` (shuffling when the DataLoader did) and evaluation a sampler of samples
    `rank, rank + world_size, ...`. The sampler's epoch is set before each pass.
    """

    def __init__(self, adapter: IterableAdapter, rank: int, world_size: int, training: bool,
                 seed: int):
        loader = adapter.data
        steps = None if adapter.num_batches == len(loader) else adapter.num_batches
        if not isinstance(loader.sampler, DistributedSampler):
            size = len(loader.dataset)
            if training:
                shuffle = isinstance(loader.sampler, RandomSampler)
                sampler = DistributedSampler(loader.dataset, world_size, rank, shuffle, seed)
            else:
                sampler = _StridedSampler(size, rank, world_size)
            loader = _with_sampler(loader, sampler)
        super().__init__(loader, steps=steps, device=adapter.device)
        self.total = len(loader.dataset)
        self._epochs = 0

    def __iter__(self):
        if hasattr(self.data.sampler, "set_epoch"):
            self.data.sampler.set_epoch(self._epochs)
        self._epochs += 1
        yield from super().__iter__()


def _with_sampler(loader: DataLoader, sampler: Sampler) -> DataLoader:
    """A DataLoader like `loader` (batching, workers, collation) that draws from `sampler`."""
    options = {
        name: getattr(loader, name)
        for name in ("batch_size", "num_workers", "collate_fn", "pin_memory", "drop_last",
                     "timeout", "worker_init_fn", "multiprocessing_context", "generator",
                     "prefetch_factor", "persistent_workers", "pin_memory_device", "in_order")
        if hasattr(loader, name)
    }
    return DataLoader(loader.dataset, sampler=sampler, **options)


def _leaves(structure) -> list:
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in _leaves(value)]
    if isinstance(structure, (list, tuple)):
        return [leaf for value in structure for leaf in _leaves(value)]
    return [structure]


def _map(fn, *structures):
    """`fn` applied leaf by leaf to structures of the same shape (tensors, lists, dicts)."""
    first = structures[0]
    if isinstance(first, dict):
        return {key: _map(fn, *(s[key] for s in structures)) for key in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_map(fn, *parts) for parts in zip(*structures))
    return fn(*structures)
