"""Application models against real Keras 3 (torch backend), live: the same builder and arguments
in both, then layer configs, graph, weights and predictions must agree. Skipped without Keras.

Weights go from Keras to netknit with `set_weights` (random values, positive variances), so
predictions are compared on small inputs, one case per family (two where a family's variants
differ in their blocks). `keras_facts.py`'s table is checked against Keras for its smaller models
(Keras takes seconds to build each large one). NASNetMobile, which Keras 3 refuses to build on
its torch backend, is compared with the NASNet function that Keras's NASNetMobile calls.
"""

import inspect

import numpy as np
import pytest
from keras_facts import CASES, case_id, describe
from test_models import BUILDERS

import netknit

keras = pytest.importorskip("keras")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                        "ignore::UserWarning:keras")

# Small cases: (builder, kwargs, input shape of the test batch).
NUMERIC_CASES = [
    ("VGG16", {"include_top": False, "input_shape": (32, 32, 3), "pooling": "avg"}, (32, 32, 3)),
    ("ResNet50", {"include_top": False, "input_shape": (32, 32, 3), "pooling": "max"},
     (32, 32, 3)),
    ("ResNet50V2", {"include_top": False, "input_shape": (33, 35, 3)}, (33, 35, 3)),
    ("MobileNet", {"alpha": 0.25, "input_shape": (33, 35, 3), "classes": 10}, (33, 35, 3)),
    ("MobileNetV2", {"alpha": 0.35, "include_top": False, "input_shape": (33, 35, 3)},
     (33, 35, 3)),
    ("DenseNet121", {"include_top": False, "input_shape": (32, 32, 3), "pooling": "avg"},
     (32, 32, 3)),
    ("EfficientNetB0", {"include_top": False, "input_shape": (33, 35, 3)}, (33, 35, 3)),
    ("Xception", {"include_top": False, "input_shape": (71, 75, 3), "pooling": "max"},
     (71, 75, 3)),
    ("InceptionV3", {"include_top": False, "input_shape": (75, 77, 3), "pooling": "avg"},
     (75, 77, 3)),
    ("MobileNetV3Small", {"input_shape": (33, 35, 3), "classes": 10}, (33, 35, 3)),
    ("MobileNetV3Large", {"alpha": 0.75, "minimalistic": True, "include_top": False,
                          "input_shape": (33, 35, 3)}, (33, 35, 3)),
    ("ConvNeXtTiny", {"include_top": False, "input_shape": (32, 36, 3), "pooling": "avg"},
     (32, 36, 3)),
    ("EfficientNetV2B0", {"include_top": False, "input_shape": (33, 35, 3)}, (33, 35, 3)),
    ("InceptionResNetV2", {"include_top": False, "input_shape": (75, 75, 3)}, (75, 75, 3)),
    ("NASNetMobile", {"include_top": False, "input_shape": (32, 35, 3)}, (32, 35, 3)),
]

# Keras 3.15.1 writes VarianceScaling's `input_axes`/`output_axes` (both None) into its config;
# netknit's VarianceScaling has no such arguments yet (netknit/initializers.py).
INITIALIZER_AXES = ("input_axes", "output_axes")


def _keras_builder(builder):
    """Keras's builder; for NASNetMobile, which Keras 3 refuses to build on its torch backend,
    the NASNet function it calls, with the same arguments."""
    if builder != "NASNetMobile":
        return getattr(keras.applications, builder)
    from keras.src.applications.nasnet import NASNet

    def nasnet_mobile(input_shape=None, include_top=True, **kwargs):
        if not include_top and input_shape is None:
            input_shape = (224, 224, 3)
        return NASNet(input_shape, penultimate_filters=1056, num_blocks=4, stem_block_filters=32,
                      skip_reduction=False, filter_multiplier=2, include_top=include_top,
                      default_size=224, name="nasnet_mobile", **kwargs)

    return nasnet_mobile


def _build_both(builder, kwargs):
    keras.backend.clear_session()
    keras_model = _keras_builder(builder)(weights=None, **kwargs)
    netknit.backend.clear_session()
    return keras_model, getattr(netknit.applications, builder)(weights=None, **kwargs)


def _plain(value, drop=()):
    """A config as plain lists and dicts; dtype policies as their names."""
    if isinstance(value, dict):
        if value.get("class_name") == "DTypePolicy":
            return value["config"]["name"]
        return {k: _plain(v, drop) for k, v in value.items() if k not in drop}
    if isinstance(value, (list, tuple)):
        return [_plain(v, drop) for v in value]
    return value


def _inbound_layers(model) -> list:
    """For each layer, the names of the layers whose outputs it takes, from the model config."""
    def sources(value):
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                return [value["config"]["keras_history"][0]]
            return [s for v in value.values() for s in sources(v)]
        if isinstance(value, (list, tuple)):
            return [s for v in value for s in sources(v)]
        return []

    return [(layer["name"], [sources(node["args"]) for node in layer["inbound_nodes"]])
            for layer in model.get_config()["layers"]]


def _random_weights(model, seed=0):
    rng = np.random.default_rng(seed)
    weights = []
    for variable, value in zip(model.weights, model.get_weights()):
        if value.ndim == 0:
            weights.append(value)
        elif "variance" in variable.path:
            weights.append(rng.uniform(0.5, 1.5, value.shape).astype(value.dtype))
        else:
            weights.append((rng.standard_normal(value.shape) * 0.1).astype(value.dtype))
    return weights


@pytest.mark.parametrize("case", [case for case in CASES if case[2].params[0] < 6_000_000],
                         ids=case_id)
def test_facts_table_is_keras(case):
    builder, kwargs, expected = case
    keras.backend.clear_session()
    assert describe(_keras_builder(builder)(weights=None, **kwargs)) == expected


@pytest.mark.parametrize("builder, kwargs, image_shape", NUMERIC_CASES,
                         ids=[case_id(case) for case in NUMERIC_CASES])
def test_same_model_and_predictions(builder, kwargs, image_shape):
    keras_model, model = _build_both(builder, kwargs)
    # 1. The same layers, configured alike, connected alike, with weights of the same shapes.
    assert model.name == keras_model.name
    for theirs, ours in zip(keras_model.layers, model.layers, strict=True):
        assert (ours.name, type(ours).__name__) == (theirs.name, type(theirs).__name__)
        assert _plain(ours.get_config(), INITIALIZER_AXES) == _plain(theirs.get_config(),
                                                                     INITIALIZER_AXES)
        assert [tuple(w.shape) for w in ours.get_weights()] == [
            tuple(w.shape) for w in theirs.get_weights()]
    assert _inbound_layers(model) == _inbound_layers(keras_model)
    # 2. Keras's weights, in Keras's order, give Keras's predictions.
    weights = _random_weights(keras_model)
    keras_model.set_weights(weights)
    model.set_weights(weights)
    images = np.random.default_rng(1).uniform(0, 255, (2, *image_shape)).astype("float32")
    expected = keras_model.predict(images, verbose=0)
    np.testing.assert_allclose(model.predict(images, verbose=0), expected, rtol=1e-4,
                               atol=1e-4 * np.abs(expected).max())


def test_every_keras_application_is_here():
    def public(module):
        return {name for name in dir(module) if not name.startswith("_")}

    assert public(keras.applications) <= set(netknit.applications.__all__)
    for module in public(keras.applications) - set(BUILDERS):
        assert public(getattr(keras.applications, module)) <= public(
            getattr(netknit.applications, module)), module


@pytest.mark.parametrize("builder", BUILDERS)
def test_signatures_are_keras(builder):
    def arguments(function):
        return [(p.name, p.default) for p in inspect.signature(function).parameters.values()]

    assert arguments(getattr(netknit.applications, builder)) == arguments(
        getattr(keras.applications, builder))


def test_efficientnet_initializer_configs():
    from netknit.applications.efficientnet import CONV_KERNEL_INITIALIZER

    layers = [library.layers.Conv2D(4, 1, kernel_initializer=CONV_KERNEL_INITIALIZER)
              for library in (keras, netknit)]
    assert _plain(layers[1].get_config()["kernel_initializer"]) == _plain(
        layers[0].get_config()["kernel_initializer"])


def test_weights_files_move_both_ways(tmp_path):
    from keras.src.legacy.saving import legacy_h5_format

    kwargs = {"include_top": True, "alpha": 0.5, "input_shape": (96, 96, 3), "classes": 5}
    keras_model, _ = _build_both("MobileNetV2", kwargs)
    keras_model.set_weights(_random_weights(keras_model, seed=2))
    images = np.random.default_rng(3).uniform(0, 255, (2, 96, 96, 3)).astype("float32")
    expected = keras_model.predict(images, verbose=0)
    # Keras 3's weights file, and Keras 2's layout (that of Keras's ImageNet files).
    keras_model.save_weights(tmp_path / "keras.weights.h5")
    import h5py

    with h5py.File(tmp_path / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_96.h5",
                   "w") as file:
        legacy_h5_format.save_weights_to_hdf5_group(file, keras_model)
    for name in ("keras.weights.h5", "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_96.h5"):
        netknit.backend.clear_session()
        model = netknit.applications.MobileNetV2(weights=str(tmp_path / name), **kwargs)
        np.testing.assert_allclose(model.predict(images, verbose=0), expected, rtol=1e-5,
                                   atol=1e-6)
    # And back: netknit's file into Keras's builder.
    model.save_weights(tmp_path / "netknit.weights.h5")
    keras.backend.clear_session()
    back = keras.applications.MobileNetV2(weights=str(tmp_path / "netknit.weights.h5"), **kwargs)
    np.testing.assert_allclose(back.predict(images, verbose=0), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_preprocess_input_is_keras(mode):
    import torch

    images = np.random.default_rng(4).uniform(0, 255, (2, 3, 4, 3)).astype("float32")
    ours = keras.applications.imagenet_utils.preprocess_input(images.copy(), mode=mode)
    np.testing.assert_allclose(
        netknit.applications.imagenet_utils.preprocess_input(images.copy(), mode=mode), ours,
        rtol=1e-6, atol=1e-5)
    tensor = netknit.applications.imagenet_utils.preprocess_input(torch.tensor(images),
                                                                  mode=mode)
    np.testing.assert_allclose(tensor.numpy(), ours, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("builder, kwargs", [
    ("VGG16", {"weights": "imagenet", "classes": 10}),
    ("ResNet50", {"weights": None, "include_top": False, "input_shape": (31, 64, 3)}),
    ("DenseNet121", {"weights": None, "input_shape": (None, None, 3)}),
    ("MobileNet", {"weights": "imagenet", "alpha": 0.3}),
    ("MobileNetV2", {"weights": None, "input_shape": (64, 64, 3),
                     "input_tensor": "Input((64, 60, 3))"}),
    ("VGG19", {"weights": "no_such_file.h5"}),
    ("Xception", {"weights": None, "include_top": False, "input_shape": (70, 100, 3)}),
    ("InceptionV3", {"weights": None, "include_top": False, "input_shape": (100, 74, 3)}),
    ("MobileNetV3Small", {"weights": "imagenet", "alpha": 0.5}),
    ("MobileNetV3Large", {"weights": None, "input_shape": (31, 64, 3)}),
    ("EfficientNetV2B0", {"weights": "imagenet", "classes": 10}),
    ("ConvNeXtTiny", {"weights": None, "input_shape": (None, None, 3)}),
    ("NASNetLarge", {"weights": "imagenet", "include_top": False,
                     "input_shape": (None, None, 3)}),
])
def test_rejects_what_keras_rejects(builder, kwargs):
    for library in (keras, netknit):
        arguments = dict(kwargs)
        if arguments.get("input_tensor") == "Input((64, 60, 3))":
            arguments["input_tensor"] = library.Input((64, 60, 3))
        with pytest.raises(ValueError):
            getattr(library.applications, builder)(**arguments)
