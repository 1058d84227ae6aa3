"""Who this process is in a data-parallel run, and the process group that joins the processes.

`torchrun` (or `launch`) starts one process per device and describes the run in environment
variables: `RANK` (this process among all), `LOCAL_RANK` (among those on this machine),
`WORLD_SIZE` (how many), `MASTER_ADDR` and `MASTER_PORT` (where they meet). The functions here
read the initialized process group when there is one and those variables otherwise, so they answer
correctly before `fit()` has initialized the group.
"""

from __future__ import annotations

import atexit
import os

import torch
import torch.distributed as dist


def _initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's index among all processes of the run (0 in a single-process run)."""
    return dist.get_rank() if _initialized() else int(os.environ.get("RANK", "0"))


def world_size() -> int:
    """The number of processes in the run (1 in a single-process run)."""
    return dist.get_world_size() if _initialized() else int(os.environ.get("WORLD_SIZE", "1"))


def local_rank() -> int:
    """This process's index among the processes of its machine; it picks the GPU to use."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if torch.cuda.is_available():
        return rank() % torch.cuda.device_count()
    return rank()


def is_distributed() -> bool:
    """True when this process is one of several: under `torchrun`, `launch`, or an initialized
    process group of more than one process."""
    return world_size() > 1


def ensure_process_group() -> None:
    """Initializes the default process group from torchrun's variables, unless it exists.

    The backend is gloo for CPU tensors and, when CUDA is available, NCCL for CUDA tensors (one
    group serves both, so a model compiled with `device="cpu"` on a GPU machine still works).
    """
    if _initialized():
        return
    if not dist.is_available():
        raise RuntimeError(
            "This process is one of several (WORLD_SIZE > 1), but this build of PyTorch has no "
            "torch.distributed. Install a PyTorch build with distributed support."
        )
    missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if name not in os.environ]
    if missing:
        raise RuntimeError(
            f"WORLD_SIZE={world_size()} says this process is one of several, but "
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set, so the "
            "processes cannot meet. Start the script with `torchrun --nproc_per_node N script.py` "
            "or netknit.distributed.launch(fn, N), or call torch.distributed.init_process_group() "
            "before fit()."
        )
    if torch.cuda.is_available():
        torch.cuda.set_device(_local_gpu())
        backend = "cpu:gloo,cuda:nccl"
    else:
        backend = "gloo"
    dist.init_process_group(backend)
    atexit.register(_destroy_process_group)


def _local_gpu() -> int:
    """This process's GPU. More processes than GPUs share them round-robin, which suits a model
    compiled with `device="cpu"` (NCCL itself takes one GPU per process)."""
    return local_rank() % torch.cuda.device_count()


def _destroy_process_group() -> None:
    if _initialized():
        dist.destroy_process_group()


def local_device(current: torch.device) -> torch.device:
    """This process's device: its own GPU when the model is on CUDA, else the CPU."""
    if current.type == "cuda":
        device = torch.device("cuda", _local_gpu())
        torch.cuda.set_device(device)
        return device
    return torch.device("cpu")


def backend_tensor(tensor: torch.Tensor) -> torch.Tensor:
    """`tensor` on a device the default group's backend can reduce (gloo: CPU, NCCL: CUDA)."""
    backend = dist.get_backend()
    if backend == "gloo" and tensor.device.type != "cpu":
        return tensor.cpu()
    if backend == "nccl" and tensor.device.type != "cuda":
        return tensor.cuda()
    return tensor
