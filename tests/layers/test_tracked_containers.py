"""Lists, dicts and tuples of layers held by a subclassed layer or model are tracked, as Keras
tracks them: counted, listed, trained, seen by torch, and saved under Keras's h5 paths."""

import copy
import os
import pickle

import numpy as np
import pytest
import torch

import netknit
from netknit.layers.tracking import TrackedDict, TrackedList

KINDS = ["list", "tuple", "dict", "append", "nested"]


class Stack(netknit.layers.Layer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.parts = [netknit.layers.Dense(3), netknit.layers.Dense(2)]

    def call(self, x):
        for part in self.parts:
            x = part(x)
        return x


def _model_class(keras, kind):
    class M(keras.Model):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.d1 = keras.layers.Dense(5)
            if kind == "list":
                self.blocks = [keras.layers.Dense(5) for _ in range(2)]
            elif kind == "tuple":
                self.blocks = tuple(keras.layers.Dense(5) for _ in range(2))
            elif kind == "dict":
                self.blocks = {"b": keras.layers.Dense(5), "a": keras.layers.Dense(5)}
            elif kind == "append":
                self.blocks = []
                for _ in range(2):
                    self.blocks.append(keras.layers.Dense(5))
            else:
                self.blocks = [[keras.layers.Dense(5)], {"x": keras.layers.Dense(5)}]
            self.d2 = keras.layers.Dense(2)

        def call(self, x):
            x = self.d1(x)
            blocks = self.blocks
            if kind == "dict":
                blocks = list(blocks.values())
            elif kind == "nested":
                blocks = [blocks[0][0], blocks[1]["x"]]
            for block in blocks:
                x = block(x)
            return self.d2(x)

    return M


def _built(keras, kind):
    model = _model_class(keras, kind)()
    model(np.zeros((8, 4), "float32"))
    return model


def _h5_keys(path):
    h5py = pytest.importorskip("h5py")
    keys = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: keys.append(n) if isinstance(o, h5py.Dataset) else None)
    return sorted(keys)


@pytest.mark.parametrize("kind", KINDS)
def test_counts_and_paths_without_keras(kind, tmp_path):
    model = _built(netknit, kind)
    assert model.count_params() == 97
    assert len(model.layers) == 4
    assert len(model.trainable_variables) == 8
    assert [tuple(w.shape) for w in model.weights] == [
        (4, 5), (5,), (5, 5), (5,), (5, 5), (5,), (5, 2), (2,)]
    assert sum(p.numel() for p in model.parameters()) == 97
    assert len(model.state_dict()) == 8
    model.save_weights(tmp_path / "m.weights.h5")
    inner = (["blocks/container/dense", "blocks/container_1/dense"] if kind == "nested"
             else ["blocks/dense", "blocks/dense_1"])
    assert _h5_keys(tmp_path / "m.weights.h5") == sorted(
        f"{p}/vars/{i}" for p in [*inner, "d1", "d2"] for i in (0, 1))


@pytest.mark.parametrize("kind", KINDS)
def test_matches_keras_and_files_move_both_ways(kind, tmp_path):
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("needs KERAS_BACKEND=torch")
    theirs, ours = _built(keras, kind), _built(netknit, kind)
    assert ours.count_params() == theirs.count_params() == 97
    assert len(ours.layers) == len(theirs.layers) == 4
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)
    theirs_file, ours_file = tmp_path / "k.weights.h5", tmp_path / "n.weights.h5"
    theirs.save_weights(theirs_file)
    ours.save_weights(ours_file)
    assert _h5_keys(ours_file) == _h5_keys(theirs_file)
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    # Keras's file into netknit, and netknit's into Keras.
    ours.load_weights(theirs_file)
    np.testing.assert_allclose(np.asarray(ours(x).detach()),
                               keras.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-6)
    fresh = _built(netknit, kind)
    for w in fresh.weights:
        with torch.no_grad():
            w.copy_(torch.randn_like(w))
    fresh.save_weights(ours_file)
    theirs.load_weights(ours_file)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(theirs(x)),
                               np.asarray(fresh(x).detach()), rtol=1e-5, atol=1e-6)


def test_layer_holding_a_list():
    block = Stack()
    block(np.zeros((2, 4), "float32"))
    assert block.count_params() == 23
    assert len(block.weights) == 4
    assert len(list(block.parameters())) == 4
    assert sorted(block.state_dict()) == [
        "parts.0.bias", "parts.0.kernel", "parts.1.bias", "parts.1.kernel"]


def test_fit_trains_the_listed_layers():
    model = _model_class(netknit, "list")()
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(1).normal(size=(16, 4)).astype("float32")
    y = np.random.default_rng(2).normal(size=(16, 2)).astype("float32")
    model(x)
    before = [w.detach().clone() for w in model.blocks[0].weights]
    model.fit(x, y, epochs=1, verbose=0)
    assert all(not torch.equal(b, w.detach()) for b, w in zip(before, model.blocks[0].weights))


def test_summary_lists_them(capsys):
    model = _built(netknit, "list")
    model.summary()
    out = capsys.readouterr().out
    assert "97" in out
    assert out.count("Dense") == 4


def test_mutations_reach_torch():
    dense = netknit.layers.Dense

    class Holder(netknit.layers.Layer):
        def __init__(self):
            super().__init__()
            self.blocks = []
            self.table = {}

    holder = Holder()
    assert isinstance(holder.blocks, TrackedList) and isinstance(holder.table, TrackedDict)
    a, b, c, d = dense(1), dense(1), dense(1), dense(1)
    holder.blocks.append(a)
    holder.blocks.extend([b])
    holder.blocks.insert(0, c)
    assert list(holder.blocks._nk_modules) == [c, a, b]
    holder.blocks[1] = d
    assert list(holder.blocks._nk_modules) == [c, d, b]
    holder.blocks.pop()
    del holder.blocks[0]
    assert list(holder.blocks._nk_modules) == [d]
    holder.blocks += [a]
    assert holder._sublayers() == [d, a]
    holder.table["x"] = b
    holder.table.update(y=c)
    assert holder._sublayers() == [d, a, b, c]
    holder.table.pop("x")
    assert holder._sublayers() == [d, a, c]
    holder.blocks = [b]
    assert holder._sublayers() == [b, c]
    del holder.blocks
    assert "blocks" not in holder._modules and not hasattr(holder, "blocks")
    assert holder._sublayers() == [c]


def test_plain_containers_stay_plain():
    class Holder(netknit.layers.Layer):
        def __init__(self):
            super().__init__()
            self.sizes = [1, 2, 3]
            self.names = {"a": "x"}
            self.shape = (2, 3)
            self.tensors = [torch.zeros(2)]
            self._cache = []

    holder = Holder()
    for name in ("sizes", "names", "shape", "tensors", "_cache"):
        assert type(getattr(holder, name)) in (list, dict, tuple)
        assert name not in holder._modules


def test_copies_keep_torch_in_sync():
    model = _built(netknit, "list")
    clone = copy.deepcopy(model)
    assert clone.blocks._nk_modules is clone._modules["blocks"]
    assert list(clone.blocks._nk_modules) == list(clone.blocks)
    assert clone.count_params() == 97
    clone.blocks.pop()
    assert model.count_params() == 97 and clone.count_params() == 67
    stack = Stack()
    stack(np.zeros((2, 4), "float32"))
    again = pickle.loads(pickle.dumps(stack))
    assert again.parts._nk_modules is again._modules["parts"]
    assert list(again.parts._nk_modules) == list(again.parts)
    assert again.count_params() == stack.count_params() == 23


def test_model_save_and_load_model(tmp_path):
    cls = _model_class(netknit, "dict")
    model = _built(netknit, "dict")
    model.compile(optimizer="adam", loss="mse")
    path = os.fspath(tmp_path / "m.keras")
    model.save(path)
    loaded = netknit.models.load_model(path, custom_objects={"M": cls}, compile=False)
    loaded(np.zeros((1, 4), "float32"))
    x = np.ones((2, 4), "float32")
    np.testing.assert_allclose(loaded(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_layers_in_keras_order(kind):
    model = _built(netknit, kind)
    blocks = model.blocks
    if kind == "dict":
        blocks = list(blocks.values())
    elif kind == "nested":
        blocks = [blocks[0][0], blocks[1]["x"]]
    assert model.layers == [model.d1, *blocks, model.d2]


def test_layer_holding_a_list_matches_keras():
    keras = pytest.importorskip("keras")

    class KerasStack(keras.layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.parts = [keras.layers.Dense(3), keras.layers.Dense(2)]

        def call(self, x):
            for part in self.parts:
                x = part(x)
            return x

    theirs, ours = KerasStack(), Stack()
    theirs(np.zeros((2, 4), "float32"))
    ours(np.zeros((2, 4), "float32"))
    assert ours.count_params() == theirs.count_params() == 23
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]


def test_netknit_models_unchanged():
    x = netknit.Input((4,))
    model = netknit.Model(x, netknit.layers.Dense(1)(netknit.layers.Dense(8)(x)))
    assert len(model.state_dict()) == 4
    assert all(k.startswith("_layer_modules.") for k in model.state_dict())
    assert not any(isinstance(v, TrackedList) for v in vars(model).values())
    seq = netknit.Sequential([netknit.Input((4,)), netknit.layers.Dense(2)])
    assert not any(isinstance(v, (TrackedList, TrackedDict)) for v in vars(seq).values())
