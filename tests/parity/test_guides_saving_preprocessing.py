"""What Keras's saving guides ("Save, serialize, and export models" and "Customizing saving and
serialization") show, on netknit: nested objects in a custom layer's config, the entries of
registered and built-in objects, and the saving hooks a user's layer or model overrides
(`save_own_variables`, `save_assets`, `get_compile_config` and their loading twins). Values
marked as Keras's were observed with Keras 3.15.1 (torch backend)."""

import json
import os
import zipfile

import h5py
import numpy as np
import pytest
import torch

import netknit as nk
from netknit import ops


@pytest.fixture
def registry():
    """Registrations made by a test do not leak into the others."""
    saved = dict(nk.saving.get_custom_objects())
    yield
    nk.saving.get_custom_objects().clear()
    nk.saving.get_custom_objects().update(saved)


def _wrapper_layer_class():
    class Wrapping(nk.layers.Layer):
        """A layer whose config holds a sublayer object, as in the guide."""

        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, x):
            return self.inner(x)

        def get_config(self):
            return {**super().get_config(), "inner": self.inner}

        @classmethod
        def from_config(cls, config):
            config["inner"] = nk.layers.deserialize(config["inner"])
            return cls(**config)

    return Wrapping


def test_functional_config_serializes_objects_in_a_layer_config(registry):
    wrapping = nk.saving.register_keras_serializable(package="Guide")(_wrapper_layer_class())
    inputs = nk.Input((4,))
    model = nk.Model(inputs, wrapping(nk.layers.Dense(3, name="inner_dense"))(inputs))
    config = model.get_config()
    inner = config["layers"][1]["config"]["inner"]
    # Keras writes the sublayer's own entry (JSON-ready), not the object.
    assert inner["class_name"] == "Dense" and inner["module"] == "keras.layers"
    assert inner["config"]["units"] == 3 and "build_config" in inner
    json.dumps(config)
    rebuilt = nk.Model.from_config(config)
    assert rebuilt.layers[1].inner.units == 3


def test_sequential_config_serializes_objects_in_a_layer_config(registry):
    wrapping = nk.saving.register_keras_serializable(package="Guide")(_wrapper_layer_class())
    model = nk.Sequential([nk.Input((4,)), wrapping(nk.layers.Dense(2))])
    inner = model.get_config()["layers"][1]["config"]["inner"]
    assert inner["class_name"] == "Dense"


def test_script_classes_are_saved_without_a_module(registry):
    class Scaled(nk.layers.Layer):
        def call(self, x):
            return x * 2

    Scaled.__module__ = "__main__"  # as a class defined in a script
    nk.saving.register_keras_serializable(package="MyLayers")(Scaled)
    entry = nk.layers.serialize(Scaled())
    # Keras: a registered class of `__main__` is written with module None.
    assert entry["module"] is None and entry["registered_name"] == "MyLayers>Scaled"


def test_user_subclass_of_a_family_is_saved_as_keras_does(registry):
    class MyLoss(nk.losses.Loss):
        def call(self, y_true, y_pred):
            return y_pred

    MyLoss.__module__ = "__main__"
    entry = nk.saving.serialize_keras_object(MyLoss())
    assert entry["module"] is None and entry["registered_name"] == "MyLoss"


def test_builtin_entries_match_keras():
    # Keras's torch backend writes its own optimizer classes with their class name registered.
    assert nk.saving.serialize_keras_object(nk.optimizers.Adam())["registered_name"] == "Adam"
    assert nk.saving.serialize_keras_object(nk.optimizers.SGD())["registered_name"] == "SGD"
    # Keras keeps L1's factor as a float32 tensor (and only L1's).
    assert nk.regularizers.L1(0.005).get_config() == {"l1": 0.004999999888241291}
    assert nk.regularizers.L2(0.005).get_config() == {"l2": 0.005}
    assert nk.constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}


def test_builtin_entries_live(real_keras):
    for name in ("Adam", "SGD", "AdamW", "RMSprop"):
        ours = nk.saving.serialize_keras_object(getattr(nk.optimizers, name)())
        theirs = real_keras.saving.serialize_keras_object(getattr(real_keras.optimizers, name)())
        assert ours == theirs
    ours = nk.saving.serialize_keras_object(nk.regularizers.L1(0.005))
    assert ours == real_keras.saving.serialize_keras_object(real_keras.regularizers.L1(0.005))


def test_deserialize_lists_and_registered_names(registry):
    @nk.saving.register_keras_serializable(package="my_package")
    def mean_pred(y_true, y_pred):
        return ops.mean(y_pred)

    entries = ["accuracy", nk.saving.serialize_keras_object(mean_pred)]
    assert nk.saving.deserialize_keras_object(entries) == ["accuracy", mean_pred]
    assert nk.saving.deserialize_keras_object("my_package>mean_pred") is mean_pred


def test_build_config_keeps_non_shape_build_arguments():
    class Built(nk.layers.Layer):
        def build(self, input_shape, layer_init):
            self.w = self.add_weight(shape=(input_shape[-1], 2), initializer=layer_init)

        def call(self, x):
            return ops.matmul(x, self.w)

    layer = Built()
    layer.build(input_shape=(8,), layer_init="ones")
    # Keras records what the build was given, shapes as tuples and other values as they are.
    assert layer.get_build_config() == {
        "shapes_dict": {"input_shape": (8,), "layer_init": "ones"}}


def test_own_variables_hooks_are_called(tmp_path, registry):
    calls = []

    @nk.saving.register_keras_serializable(package="guide")
    class WithState(nk.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 1), initializer="ones")
            self.extra = np.arange(3.0)

        def call(self, x):
            return ops.matmul(x, self.w)

        def save_own_variables(self, store):
            super().save_own_variables(store)
            store["extra"] = self.extra
            calls.append(("save", sorted(store)))

        def load_own_variables(self, store):
            calls.append(("load", sorted(store)))
            self.extra = np.asarray(store["extra"])
            super().load_own_variables({"0": store["0"]})

    model = nk.Sequential([nk.Input((2,)), WithState()])
    model.layers[0].extra = np.array([5.0, 6.0, 7.0])
    path = str(tmp_path / "m.keras")
    model.save(path)
    with zipfile.ZipFile(path) as archive, h5py.File(
            archive.open("model.weights.h5")) as weights:
        assert sorted(weights["layers/with_state/vars"]) == ["0", "extra"]
    restored = nk.models.load_model(path)
    assert calls == [("save", ["0", "extra"]), ("load", ["0", "extra"])]
    np.testing.assert_array_equal(restored.layers[0].extra, [5.0, 6.0, 7.0])
    np.testing.assert_array_equal(restored.layers[0].w.detach().numpy(), np.ones((2, 1)))


def test_default_own_variables_round_trip():
    layer = nk.layers.Dense(2)
    layer.build((None, 3))
    store = {}
    layer.save_own_variables(store)
    assert sorted(store) == ["0", "1"]
    other = nk.layers.Dense(2)
    other.build((None, 3))
    other.load_own_variables({k: np.asarray(v.detach()) for k, v in store.items()})
    torch.testing.assert_close(other.kernel, layer.kernel)
    with pytest.raises(ValueError, match="has 2 weights, but the saved file holds 1"):
        other.load_own_variables({"0": store["0"]})


def test_assets_hooks_are_called(tmp_path, registry):
    @nk.saving.register_keras_serializable(package="guide")
    class WithAssets(nk.layers.Dense):
        def __init__(self, vocab=None, **kwargs):
            super().__init__(**kwargs)
            self.vocab = vocab

        def save_assets(self, inner_path):
            with open(os.path.join(inner_path, "vocabulary.txt"), "w") as file:
                file.write(self.vocab)

        def load_assets(self, inner_path):
            with open(os.path.join(inner_path, "vocabulary.txt")) as file:
                self.vocab = file.read().replace("<unk>", "little")

    model = nk.Sequential([WithAssets(vocab="Mary had a <unk> lamb.", units=5)])
    model(np.zeros((2, 3), "float32"))
    path = str(tmp_path / "assets.keras")
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        # Keras's member name: the layer's path under assets/.
        assert "assets/layers/with_assets/vocabulary.txt" in archive.namelist()
    assert nk.models.load_model(path).layers[0].vocab == "Mary had a little lamb."
    directory = str(tmp_path / "assets_dir")
    model.save(directory, zipped=False)
    assert nk.models.load_model(directory).layers[0].vocab == "Mary had a little lamb."


def test_compile_config_hooks_are_called(tmp_path, registry):
    @nk.saving.register_keras_serializable(package="guide")
    def small_loss(y_true, y_pred):
        return ops.sum(ops.square(y_pred - y_true) / 10.0, axis=1)

    @nk.saving.register_keras_serializable(package="guide")
    class CustomCompile(nk.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = nk.layers.Dense(4)

        def call(self, x):
            return self.dense(x)

        def compile(self, optimizer, loss_fn):
            super().compile(optimizer=optimizer, loss=loss_fn)
            self.loss_fn = loss_fn

        def get_compile_config(self):
            return {"model_optimizer": "SGD", "loss_fn": self.loss_fn}

        def compile_from_config(self, config):
            self.compile(nk.saving.deserialize_keras_object(config["model_optimizer"]),
                         nk.saving.deserialize_keras_object(config["loss_fn"]))

    model = CustomCompile()
    model.compile("SGD", small_loss)
    model.fit(np.ones((4, 8)), np.ones((4, 4)), verbose=0)
    path = str(tmp_path / "compile.keras")
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        saved = json.loads(archive.read("config.json"))["compile_config"]
    assert saved == {"model_optimizer": "SGD", "loss_fn": {
        "module": "builtins", "class_name": "function", "config": "guide>small_loss",
        "registered_name": "function"}}
    restored = nk.models.load_model(path)
    assert restored.loss_fn is small_loss
    assert type(restored.optimizer).__name__ == "SGD"
