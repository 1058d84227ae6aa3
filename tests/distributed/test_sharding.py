"""Shards, rank detection and rank-0-only callbacks, checked in one process (no process group)."""

import importlib
import threading

import pytest
import torch

import netknit as keras
from netknit import distributed
from netknit.distributed.data_parallel import (
    ShardedTensorAdapter,
    evaluation_shard,
    training_shard,
)
from netknit.distributed.process_group import ensure_process_group
from netknit.training.data import TensorAdapter


def _shards(size, world, training, shuffle, seed=7, batch_size=4):
    x = torch.arange(size, dtype=torch.float32)[:, None]
    adapter = TensorAdapter(x, batch_size=batch_size, shuffle=shuffle)
    return [ShardedTensorAdapter(adapter, rank, world, training, seed) for rank in range(world)]


def _epoch(adapter):
    return [int(v) for x, _, _ in adapter for v in x[:, 0]]


def test_training_shard_pads_like_distributed_sampler():
    order = torch.arange(10)
    shards = [training_shard(order, rank, 4).tolist() for rank in range(4)]
    assert shards == [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
    assert training_shard(torch.arange(1), 1, 3).tolist() == [0]


def test_evaluation_shard_repeats_nothing_unless_samples_are_fewer_than_processes():
    assert [evaluation_shard(5, rank, 2).tolist() for rank in range(2)] == [[0, 2, 4], [1, 3]]
    assert [evaluation_shard(2, rank, 3).tolist() for rank in range(3)] == [[0], [1], [0]]


def test_shuffled_training_shards_cover_the_data_and_change_every_epoch():
    shards = _shards(22, 2, training=True, shuffle=True)
    assert [s.num_batches for s in shards] == [3, 3]
    first = [_epoch(s) for s in shards]
    second = [_epoch(s) for s in shards]
    assert len(first[0]) == len(first[1]) == 11
    assert sorted(first[0] + first[1]) == list(range(22))
    assert not set(first[0]) & set(first[1])
    assert first != second
    assert sorted(second[0] + second[1]) == list(range(22))


def test_unshuffled_training_shards_form_the_global_batches_in_order():
    shards = _shards(16, 2, training=True, shuffle=False)
    batches = [list(s) for s in shards]
    for rank_0, rank_1 in zip(*batches):
        merged = sorted(int(v) for v in torch.cat([rank_0[0], rank_1[0]])[:, 0])
        assert merged == list(range(merged[0], merged[0] + 8))


def test_evaluation_shards_are_fixed_and_unpadded():
    shards = _shards(9, 2, training=False, shuffle=False)
    assert [_epoch(s) for s in shards] == [[0, 2, 4, 6, 8], [1, 3, 5, 7]]
    assert [s.total for s in shards] == [9, 9]


def test_rank_and_world_size_come_from_torchrun_variables(monkeypatch):
    assert (distributed.rank(), distributed.world_size()) == (0, 1)
    assert not distributed.is_distributed()
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert (distributed.rank(), distributed.local_rank(), distributed.world_size()) == (3, 1, 4)
    assert distributed.is_distributed()


def test_a_run_without_a_meeting_point_says_how_to_launch(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.delenv("MASTER_PORT", raising=False)
    with pytest.raises(RuntimeError, match="torchrun --nproc_per_node"):
        ensure_process_group()


def test_callbacks_that_write_run_on_rank_zero_only(monkeypatch, tmp_path):
    writers = [keras.callbacks.CSVLogger(str(tmp_path / "log.csv")),
               keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras")),
               keras.callbacks.ProgbarLogger()]
    early = keras.callbacks.EarlyStopping()
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    on_rank_1 = keras.callbacks.CallbackList(writers + [early], add_history=True)
    assert [type(c).__name__ for c in on_rank_1.callbacks] == ["EarlyStopping", "History"]
    monkeypatch.setenv("RANK", "0")
    on_rank_0 = keras.callbacks.CallbackList(writers + [early], add_history=True)
    assert len(on_rank_0.callbacks) == 5


def test_backup_and_restore_writes_on_rank_zero_only(monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    backup.on_epoch_end(0)
    assert not (tmp_path / "backup").exists()


def test_launch_checks_its_arguments():
    with pytest.raises(ValueError, match="nprocs=0"):
        distributed.launch(print, 0)


def test_launch_refuses_a_function_new_processes_cannot_import():
    def local_function():
        return 1

    with pytest.raises(ValueError, match="Define the function at the top level of a module"):
        distributed.launch(local_function, 2, start_method="spawn")


def test_launch_spawns_where_a_gpu_is_visible(monkeypatch):
    """A forked child cannot use CUDA once the parent has asked for the GPUs, so launch forks
    only where none is visible (checked here without a GPU, by pretending one is there)."""
    launch_module = importlib.import_module("netknit.distributed.launch")
    chosen = []

    def start_processes(fn, args, nprocs, join, start_method):
        chosen.append(start_method)
        raise RuntimeError("stop before starting anything")

    monkeypatch.setattr(launch_module.mp, "start_processes", start_processes)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(RuntimeError, match="stop before"):
        distributed.launch(max, 2, [1], [2])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="stop before"):
        distributed.launch(max, 2, [1], [2])
    can_fork = ("fork" in torch.multiprocessing.get_all_start_methods()
                and threading.active_count() == 1)
    assert chosen == ["spawn", "fork" if can_fork else "spawn"]


def test_more_local_processes_than_gpus_share_them(monkeypatch):
    from netknit.distributed import process_group

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    gpus = []
    for local_rank in range(5):
        monkeypatch.setenv("LOCAL_RANK", str(local_rank))
        gpus.append(process_group._local_gpu())
    assert gpus == [0, 1, 0, 1, 0]
