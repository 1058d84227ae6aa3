"""Data-parallel training on `torch.distributed`: the same `fit()` script on N processes.

Run an unchanged Keras-style script with `torchrun --nproc_per_node N script.py`: `fit`,
`evaluate` and `predict` find (or initialize) the process group, train one replica per process
with `DistributedDataParallel`, shard in-memory data and `DataLoader`s by rank, and report
metrics over all the data. From a notebook, `launch(fn, N)` runs `fn` on N local processes.

Epoch logs are global; batch-level logs (the live progress bar) show rank 0's own running values.
A callback that stops training in the middle of an epoch must decide alike on every process
(a process that stops alone leaves the others waiting at the next gradient exchange). A custom
`train_step` that calls `self(x)` bypasses the gradient exchange.

>>> import netknit as keras
>>> keras.distributed.rank(), keras.distributed.world_size()
(0, 1)
"""

from .launch import launch as launch
from .process_group import is_distributed as is_distributed
from .process_group import local_rank as local_rank
from .process_group import rank as rank
from .process_group import world_size as world_size

__all__ = ["is_distributed", "launch", "local_rank", "rank", "world_size"]
