"""Data-parallel fit/evaluate/predict on 2 CPU processes (gloo) match a single-process run."""

import os
import warnings

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import distributed, layers

SAMPLES, PER_RANK_BATCH, WORLD = 32, 4, 2


def _data(samples=SAMPLES):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((samples, 3)).astype("float32")
    y = (x @ np.array([[0.5], [-1.0], [2.0]], dtype="float32") + 0.1).astype("float32")
    return x, y


def _model():
    inputs = keras.Input((3,))
    outputs = layers.Dense(1)(layers.Dense(4, activation="tanh")(inputs))
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(1)
    model.set_weights([0.5 * rng.standard_normal(w.shape).astype("float32")
                       for w in model.get_weights()])
    # On the CPU (gloo) also where a GPU is visible: one GPU cannot hold two NCCL ranks.
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"], device="cpu")
    return model


class _WritesRankFile(keras.callbacks.Callback):
    rank_zero_only = True

    def __init__(self, directory):
        super().__init__()
        self.directory = directory

    def on_epoch_end(self, epoch, logs=None):
        with open(os.path.join(self.directory, f"rank{distributed.rank()}.txt"), "w") as file:
            file.write(str(logs))


def _loader(x, y, batch_size, shuffle=False):
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


def _run(directory, batch_size):
    """One epoch of fit on arrays (with validation) and on a DataLoader, two shuffled epochs,
    evaluate and predict: what each process saw. Runs in every process, and alone (with the
    summed batch) as the single-process reference."""
    x, y = _data()
    model = _model()
    callbacks = [_WritesRankFile(directory),
                 keras.callbacks.CSVLogger(os.path.join(directory, f"log{distributed.rank()}.csv"))]
    history = model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0,
                        validation_split=0.25, callbacks=callbacks)
    loader_model = _model()
    loader_model.fit(_loader(x[:24], y[:24], batch_size), epochs=1, verbose=0, shuffle=False)
    shuffled_model = _model()
    shuffled_model.fit(x, y, batch_size=batch_size, epochs=2, shuffle=True, verbose=0)
    x_odd, y_odd = _data(13)
    return {
        "weights": model.get_weights(),
        "loader_weights": loader_model.get_weights(),
        "shuffled_weights": shuffled_model.get_weights(),
        "history": history.history,
        "evaluate": model.evaluate(x_odd, y_odd, batch_size=2, verbose=0, return_dict=True),
        "predict": model.predict(x_odd, batch_size=2, verbose=0),
        "loader_predict": model.predict(_loader(x_odd, y_odd, 2), verbose=0),
        "files": sorted(os.listdir(directory)),
    }


def _parallel_run(directory):
    return _run(directory, PER_RANK_BATCH)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    parallel_dir = tmp_path_factory.mktemp("parallel")
    single_dir = tmp_path_factory.mktemp("single")
    parallel = distributed.launch(_parallel_run, WORLD, str(parallel_dir))
    single = _run(str(single_dir), PER_RANK_BATCH * WORLD)
    return parallel, single


def test_weights_are_identical_on_all_ranks_and_match_one_process_with_the_summed_batch(runs):
    parallel, single = runs
    for key in ("weights", "loader_weights"):
        for rank_0, rank_1, alone in zip(parallel[0][key], parallel[1][key], single[key]):
            np.testing.assert_array_equal(rank_0, rank_1)
            np.testing.assert_allclose(rank_0, alone, rtol=1e-5, atol=1e-6)


def test_shuffled_training_keeps_the_replicas_identical(runs):
    parallel, _ = runs
    for rank_0, rank_1 in zip(parallel[0]["shuffled_weights"], parallel[1]["shuffled_weights"]):
        np.testing.assert_array_equal(rank_0, rank_1)


def test_metrics_are_global_and_match_one_process(runs):
    parallel, single = runs
    for rank_result in parallel:
        assert list(rank_result["history"]) == ["loss", "mae", "val_loss", "val_mae"]
        for key, values in single["history"].items():
            np.testing.assert_allclose(rank_result["history"][key], values, rtol=1e-5)
        for key, value in single["evaluate"].items():
            np.testing.assert_allclose(rank_result["evaluate"][key], value, rtol=1e-5)


def test_predict_returns_all_samples_in_order_on_every_rank(runs):
    parallel, single = runs
    for rank_result in parallel:
        assert rank_result["predict"].shape == (13, 1)
        np.testing.assert_allclose(rank_result["predict"], single["predict"], rtol=1e-5)
        np.testing.assert_allclose(rank_result["loader_predict"], single["predict"], rtol=1e-5)


def test_only_rank_zero_runs_callbacks_that_write_files(runs):
    parallel, _ = runs
    assert parallel[0]["files"] == ["log0.csv", "rank0.txt"]


def _stateful_run(_):
    """Each rank's carried states after one epoch of a stateful RNN whose weights stay fixed."""
    inputs = keras.Input((4, 2), batch_size=2)
    rnn = layers.SimpleRNN(3, stateful=True)
    model = keras.Model(inputs, rnn(inputs))
    model.set_weights([np.full(w.shape, 0.1, "float32") for w in model.get_weights()])
    model.compile(keras.optimizers.SGD(0.0), "mse", device="cpu")
    x = np.arange(128, dtype="float32").reshape(16, 4, 2) / 100
    model.fit(x, np.zeros((16, 3), "float32"), batch_size=2, shuffle=False, verbose=0)
    return rnn.states[0].numpy()


def test_stateful_layers_carry_each_ranks_own_states():
    # DDP copies rank 0's buffers to every rank before each step; the carried states are exempt,
    # so rank r's follow its own samples (r, r + 2, r + 4, ...) batch after batch.
    carried = distributed.launch(_stateful_run, WORLD, None)
    x = np.arange(128, dtype="float32").reshape(16, 4, 2) / 100
    reference = layers.SimpleRNN(3, return_state=True)
    reference(torch.zeros(2, 4, 2))
    reference.set_weights([np.full(w.shape, 0.1, "float32") for w in reference.get_weights()])
    for rank in range(WORLD):
        samples, state = x[rank::WORLD], torch.zeros(2, 3)
        for start in range(0, len(samples), 2):
            _, state = reference(torch.as_tensor(samples[start:start + 2]), initial_state=[state])
        np.testing.assert_allclose(carried[rank], state.detach().numpy(), rtol=1e-6)


class _Positives(keras.metrics.Metric):
    """A metric written the Keras way: its state is an attribute of another name."""

    def __init__(self, name="positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.count = self.add_variable(shape=(), initializer="zeros", name="positive_count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.count.add_((y_pred > 0).sum().to(self.count.dtype))

    def result(self):
        return self.count + 0


def _count_positives(_):
    x, y = _data()
    model = _model()
    model.compile(loss="mse", metrics=[_Positives()], device="cpu")
    return model.evaluate(x, y, batch_size=2, verbose=0, return_dict=True)["positives"]


def test_a_keras_style_metric_counts_the_samples_of_all_processes():
    x, _ = _data()
    expected = int((_model().predict(x, verbose=0) > 0).sum())
    assert distributed.launch(_count_positives, WORLD, None) == [expected, expected]


def _batches_per_epoch(_):
    x, y = _data()
    model = _model()
    seen = []
    counter = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(0),
        on_train_batch_end=lambda batch, logs: seen.__setitem__(-1, seen[-1] + 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, batch_size=PER_RANK_BATCH, steps_per_epoch=3, epochs=3, shuffle=False,
                  verbose=0, callbacks=[counter])
    return seen, any("ran out" in str(w.message) for w in caught)


def test_steps_per_epoch_counts_the_batches_of_each_processs_shard():
    # 16 samples per process in batches of 4: passes of 4 batches, so epochs of 3, 1 (the pass
    # ran out, with Keras's warning) and 3, as one process runs them over its own data.
    for seen, warned in distributed.launch(_batches_per_epoch, WORLD, None):
        assert seen == [3, 1, 3] and warned


class _StopsOneRank(keras.callbacks.Callback):
    """Stops training in rank 1 only: after batch `batch` of the first epoch, or (batch None)
    at the end of the first epoch."""

    def __init__(self, batch):
        super().__init__()
        self.batch, self.batches = batch, 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        if distributed.rank() == 1 and batch == self.batch:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if distributed.rank() == 1 and self.batch is None:
            self.model.stop_training = True


def _stop_in_one_rank(batch):
    x, y = _data()
    model = _model()
    stopper = _StopsOneRank(batch)
    history = model.fit(x, y, batch_size=PER_RANK_BATCH, epochs=3, verbose=0,
                        callbacks=[stopper])
    return stopper.batches, len(history.history["loss"]), model.get_weights()


@pytest.mark.parametrize("batch, batches, epochs", [(1, 2, 1), (None, 4, 1)])
def test_a_stop_in_one_process_stops_all_of_them_at_the_same_batch(batch, batches, epochs):
    # Before, the other process waited in the next gradient all-reduce: a hang.
    results = distributed.launch(_stop_in_one_rank, WORLD, batch)
    assert [r[:2] for r in results] == [(batches, epochs)] * WORLD
    for ours, theirs in zip(results[0][2], results[1][2]):
        np.testing.assert_array_equal(ours, theirs)
