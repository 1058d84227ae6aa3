"""`compile(jit_compile=True)` trains and predicts like the eager model."""

import random

import numpy as np
import pytest
import torch

import netknit as keras

# The operators of layers/eager_kernels.py exist for the CPU; models train on a GPU when one is
# visible, and there the compiler's own code runs.
cpu_only = pytest.mark.skipif(torch.cuda.is_available(),
                              reason="the eager-kernel operators are CPU-only")


def _model(jit_compile):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse", jit_compile=jit_compile)
    return model


def test_jit_compile_matches_eager_training_and_prediction():
    rng = np.random.default_rng(0)
    x, y = rng.random((24, 4), dtype="float32"), rng.random((24, 1), dtype="float32")
    eager, compiled = _model(False), _model(True)
    compiled.set_weights(eager.get_weights())
    eager_loss = eager.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    compiled_loss = compiled.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(compiled_loss.history["loss"], eager_loss.history["loss"],
                               rtol=1e-5)
    for a, b in zip(compiled.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(compiled.predict(x, verbose=0), eager.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    steps = compiled._compiled_steps
    assert "train" in steps  # forward, loss, backward and the update: one graph
    assert all(type(f).__name__ == "AOTCompiledFunction"
               for f in steps["train"]._by_signature.values())
    assert all(type(f).__name__ == "_InferenceGraph"
               for f in steps["predict"]._by_signature.values())
    assert all(p.grad is None for p in compiled.parameters())


def test_jit_compile_with_sample_weights_a_smaller_last_batch_and_two_outputs():
    rng = np.random.default_rng(1)
    x = rng.random((26, 4), dtype="float32")
    y = {"a": rng.random((26, 1), dtype="float32"), "b": rng.integers(0, 3, 26)}
    weights = rng.random(26).astype("float32")

    def model(jit_compile):
        keras.utils.set_random_seed(2)
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(8, activation="relu")(inputs)
        outputs = {"a": keras.layers.Dense(1, name="a")(hidden),
                   "b": keras.layers.Dense(3, activation="softmax", name="b")(hidden)}
        built = keras.Model(inputs, outputs)
        built.compile(optimizer="rmsprop",
                      loss={"a": "mse", "b": "sparse_categorical_crossentropy"},
                      metrics={"b": ["accuracy"]}, jit_compile=jit_compile)
        return built

    eager, compiled = model(False), model(True)
    histories = [m.fit(x, y, sample_weight=weights, batch_size=8, epochs=2, shuffle=False,
                       validation_data=(x, y), verbose=0).history for m in (eager, compiled)]
    assert sorted(histories[1]) == sorted(histories[0])
    for key, values in histories[0].items():
        np.testing.assert_allclose(histories[1][key], values, rtol=1e-4, atol=1e-6, err_msg=key)
    # Batches of 8 and a last one of 2, without and with sample weights: one graph for each.
    assert len(compiled._compiled_steps["train"]._by_signature) == 2
    unweighted = [m.evaluate(x, y, batch_size=8, return_dict=True, verbose=0)
                  for m in (eager, compiled)]
    for key, value in unweighted[0].items():
        np.testing.assert_allclose(unweighted[1][key], value, rtol=1e-4, err_msg=key)
    steps = compiled._compiled_steps
    assert len(steps["test_loss"]._by_signature) == 2
    # Each compiled ahead of time (no guards checked per call), none fell back.
    assert all(type(f).__name__ == "AOTCompiledFunction" for name in ("train", "test_loss")
               for f in steps[name]._by_signature.values())


OPTIMIZERS = [
    keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    keras.optimizers.Adam(0.01, amsgrad=True),
    keras.optimizers.AdamW(0.01, clipnorm=0.5),
    keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    keras.optimizers.Adagrad(0.1), keras.optimizers.Adadelta(1.0), keras.optimizers.Adamax(0.01),
    keras.optimizers.Nadam(0.01, global_clipnorm=1.0), keras.optimizers.Lion(0.001),
    keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)),
    keras.optimizers.Ftrl(0.1, l1_regularization_strength=0.01, beta=0.1),
    keras.optimizers.Lamb(0.01, weight_decay=0.1), keras.optimizers.Adafactor(0.1),
]


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: type(o).__name__)
def test_every_optimizer_updates_inside_the_compiled_step_as_it_does_eagerly(optimizer):
    rng = np.random.default_rng(3)
    x, y = rng.random((32, 4), dtype="float32"), rng.random((32, 2), dtype="float32")
    models = []
    for jit_compile in (False, True):
        keras.utils.set_random_seed(4)
        model = keras.Sequential([
            keras.Input((4,)),
            keras.layers.Dense(8, activation="tanh", kernel_constraint="max_norm"),
            keras.layers.Dense(2),
        ])
        model.compile(optimizer=type(optimizer).from_config(optimizer.get_config()), loss="mse",
                      jit_compile=jit_compile)
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        models.append(model)
    eager, compiled = models
    assert "train" in compiled._compiled_steps  # the update ran inside the compiled graph
    assert compiled.optimizer.iterations == eager.optimizer.iterations == 8
    for a, b in zip(compiled.get_weights() + compiled.optimizer.variables,
                    eager.get_weights() + eager.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_freezing_a_layer_without_compiling_again_is_refused(jit_compile):
    model = _model(jit_compile)
    x, y = np.ones((8, 4), "float32"), np.ones((8, 1), "float32")
    model.fit(x, y, verbose=0)
    model.layers[0].trainable = False
    with pytest.raises(ValueError, match="compile the model again after changing `trainable`"):
        model.fit(x, y, verbose=0)
    model.compile(optimizer="adam", loss="mse", jit_compile=jit_compile)
    frozen = model.layers[0].get_weights()
    model.fit(x, y, verbose=0)
    for a, b in zip(model.layers[0].get_weights(), frozen):
        np.testing.assert_array_equal(a, b)


# torch.compile, tracing the default step's metric update after its graph break at backward(),
# warns about reading `.grad` of the outputs; the step still runs.
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_a_train_step_that_calls_the_default_one_compiles_under_jit():
    class Counting(keras.Sequential):
        calls = 0

        def train_step(self, data):
            Counting.calls += 1  # runs while torch.compile traces, and eagerly where it breaks
            return super().train_step(data)

    keras.utils.set_random_seed(5)
    model = Counting([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    x, y = np.ones((8, 4), "float32"), np.zeros((8, 1), "float32")
    history = model.fit(x, y, batch_size=4, epochs=3, verbose=0).history
    assert Counting.calls >= 1 and history["loss"][-1] < history["loss"][0]
    assert model.optimizer.iterations == 6
    # The user's compiled step is kept apart from the default step's own compiled regions (which
    # it would otherwise be mistaken for, and fall back from).
    assert "train_step" in model._compiled_steps
    assert "forward_and_loss" not in model._compiled_steps


def test_batch_normalization_updates_its_moving_statistics_inside_the_compiled_step():
    rng = np.random.default_rng(6)
    x, y = rng.random((40, 5), dtype="float32") * 3, rng.random((40, 1), dtype="float32")
    models = []
    for jit_compile in (False, True):
        keras.utils.set_random_seed(7)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6),
                                  keras.layers.BatchNormalization(momentum=0.8),
                                  keras.layers.Dense(1)])
        # SGD: the Dense bias before the normalization has a gradient of zero up to rounding,
        # which Adam would scale up to full steps and so amplify float differences.
        model.compile(optimizer="sgd", loss="mse", jit_compile=jit_compile)
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        models.append(model)
    eager, compiled = models
    assert "train" in compiled._compiled_steps  # not the forward + loss fallback
    moving = [w for w in compiled.layers[1].get_weights()[2:]]
    assert not np.allclose(moving[0], 0.0)  # the moving mean moved
    for a, b in zip(compiled.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@cpu_only
@pytest.mark.parametrize("options", [
    {},
    {"use_bias": False, "go_backwards": True},
    {"return_sequences": True, "return_state": True},
])
def test_an_lstm_trains_inside_the_compiled_step_as_it_does_eagerly(options):
    # torch cannot compile torch.lstm's derivative in a whole step; on the CPU the layer then
    # calls oneDNN's kernels as opaque graph nodes (layers/eager_kernels.py).
    rng = np.random.default_rng(8)
    x = rng.random((40, 7, 3), dtype="float32")
    state = rng.random((40, 5), dtype="float32")
    y = rng.random((40, 1), dtype="float32")
    models = []
    for jit_compile in (False, True):
        keras.utils.set_random_seed(9)
        sequence, state_input = keras.Input((7, 3)), keras.Input((5,))
        # Layers before the LSTM's input and states: their gradients pass through the kernel.
        # The states are strided views of one output, which oneDNN must get contiguous.
        both = keras.layers.Dense(10)(state_input)
        h0 = keras.layers.Lambda(lambda t: t[:, ::2])(both)
        c0 = keras.layers.Lambda(lambda t: t[:, 1::2])(both)
        out = keras.layers.LSTM(5, **options)(keras.layers.Dense(3)(sequence),
                                              initial_state=[h0, c0])
        if options.get("return_state"):
            out = keras.layers.Concatenate()([keras.layers.Flatten()(out[0]), *out[1:]])
        model = keras.Model([sequence, state_input], keras.layers.Dense(1)(out))
        model.compile(optimizer="adam", loss="mse", jit_compile=jit_compile)
        history = model.fit([x, state], y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        models.append((model, history.history["loss"]))
    _check_whole_step_trains_as_eager(*models)


def _check_whole_step_trains_as_eager(eager_run, compiled_run):
    """Each run is (model, history losses): the compiled model trained in one graph compiled
    ahead of time (not a fallback), to the eager model's losses and weights."""
    (eager, eager_loss), (compiled, compiled_loss) = eager_run, compiled_run
    assert [type(f).__name__ for f in compiled._compiled_steps["train"]._by_signature.values()
            ] == ["AOTCompiledFunction"]
    np.testing.assert_allclose(compiled_loss, eager_loss, rtol=1e-5)
    for a, b in zip(compiled.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@cpu_only
def test_compiling_leaves_pythons_random_stream_alone():
    # For a graph it cannot hash (the oneDNN LSTM's), torch's ahead-of-time compiler draws its
    # cache key from `random`: after the same seed, a second model got the first one's graph.
    rng = np.random.default_rng(10)
    x, y = rng.random((16, 4, 2), dtype="float32"), rng.random((16, 1), dtype="float32")
    model = keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(3), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    keras.utils.set_random_seed(3)
    expected = random.random()
    keras.utils.set_random_seed(3)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert "train" in model._compiled_steps
    assert random.random() == expected


@cpu_only
def test_each_model_compiles_its_own_static_graph_in_a_process_that_compiled_others():
    # torch.compile makes sizes and floats seen to change between compilations of the same
    # code dynamic ("automatic dynamic"): a second model's step then traced the first one's
    # beta_2 as a symbol, which the LSTM's graph could not compile, and fell back.
    rng = np.random.default_rng(11)
    for units, beta_2 in ((3, 0.99), (4, 0.999)):
        x, y = rng.random((16, 4, 2), dtype="float32"), rng.random((16, 1), dtype="float32")
        model = keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(units),
                                  keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(beta_2=beta_2), loss="mse",
                      jit_compile=True)
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        assert [type(f).__name__ for f in model._compiled_steps["train"]._by_signature.values()
                ] == ["AOTCompiledFunction"]


@cpu_only
@pytest.mark.parametrize("pooling, input_shape", [
    (lambda: keras.layers.MaxPooling2D(2), (7, 6, 3)),  # a row and a column left over
    (lambda: keras.layers.MaxPooling2D(3, strides=2, padding="same"), (7, 6, 3)),  # uneven pads
    (lambda: keras.layers.MaxPooling2D(3, strides=1, padding="same"), (5, 5, 2)),  # even pads
    (lambda: keras.layers.MaxPooling2D(2, data_format="channels_first"), (3, 6, 4)),
    (lambda: keras.layers.MaxPooling3D(2), (4, 5, 4, 2)),
])
def test_max_pooling_trains_inside_the_compiled_step_as_it_does_eagerly(pooling, input_shape):
    # On the CPU the compiled step calls torch's pooling kernels (layers/eager_kernels.py).
    rng = np.random.default_rng(12)
    x = rng.random((12, *input_shape), dtype="float32")
    y = rng.random((12, 1), dtype="float32")
    models = []
    for jit_compile in (False, True):
        keras.utils.set_random_seed(13)
        conv = keras.layers.Conv3D if len(input_shape) == 4 else keras.layers.Conv2D
        data_format = getattr(pooling(), "data_format", "channels_last")
        model = keras.Sequential([
            keras.Input(input_shape), conv(4, 1, data_format=data_format), pooling(),
            keras.layers.Flatten(), keras.layers.Dense(1),
        ])
        model.compile(optimizer="adam", loss="mse", jit_compile=jit_compile)
        history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        models.append((model, history.history["loss"]))
    _check_whole_step_trains_as_eager(*models)
    compiled = models[1][0]
    with torch.profiler.profile() as profile:
        compiled.train_on_batch(x[:4], y[:4])
    called = {event.name for event in profile.events()}
    assert {"netknit::max_pool", "netknit::max_pool_backward"} <= called


def test_compiled_prediction_of_a_multi_input_multi_output_model_matches_eager():
    # An LSTM branch, batch normalization and dropout (both in inference mode), a dict of
    # outputs and a smaller last batch: one inductor graph per batch signature, no fallback.
    rng = np.random.default_rng(12)
    sequences, table = rng.random((21, 6, 3), dtype="float32"), rng.random((21, 4), "float32")
    predictions = []
    for jit_compile in (False, True):
        keras.utils.set_random_seed(13)
        sequence, features = keras.Input((6, 3), name="sequence"), keras.Input((4,), name="table")
        hidden = keras.layers.Concatenate()([
            keras.layers.LSTM(5)(sequence),
            keras.layers.Dropout(0.5)(keras.layers.BatchNormalization()(
                keras.layers.Dense(8, activation="relu")(features))),
        ])
        model = keras.Model({"sequence": sequence, "table": features}, {
            "score": keras.layers.Dense(1, name="score")(hidden),
            "kind": keras.layers.Dense(3, activation="softmax", name="kind")(hidden),
        })
        model.compile(optimizer="adam", loss={"score": "mse", "kind": "categorical_crossentropy"},
                      jit_compile=jit_compile)
        model.fit({"sequence": sequences, "table": table},
                  {"score": table[:, :1], "kind": table[:, 1:]}, epochs=1, verbose=0)
        predictions.append(model.predict({"table": table, "sequence": sequences}, batch_size=8,
                                         verbose=0))
    eager, compiled = predictions
    assert sorted(compiled) == ["kind", "score"]
    for key in eager:
        assert compiled[key].shape == eager[key].shape
        np.testing.assert_allclose(compiled[key], eager[key], rtol=1e-5, atol=1e-6)
    graphs = model._compiled_steps["predict"]._by_signature.values()
    assert [type(g).__name__ for g in graphs] == ["_InferenceGraph"] * 2


def test_compiled_prediction_reads_the_current_weights():
    rng = np.random.default_rng(14)
    x, y = rng.random((16, 4), dtype="float32"), rng.random((16, 1), dtype="float32")
    model = _model(True)
    before = model.predict(x, verbose=0)
    model.fit(x, y, epochs=2, verbose=0)
    model.set_weights([w * 2 for w in model.get_weights()])
    eager = _model(False)
    eager.set_weights(model.get_weights())
    after = model.predict(x, verbose=0)
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, eager.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert len(model._compiled_steps["predict"]._by_signature) == 1


class _SignFlip(keras.layers.Layer):
    """Data-dependent Python control flow: no graph traces through it."""

    def forward(self, inputs):
        return inputs if inputs.sum().item() > 0 else -inputs


@pytest.mark.parametrize("layer", [
    lambda: _SignFlip(),
    # Its activity penalty is kept by a hook, which must not keep a traced stand-in.
    lambda: keras.layers.Dense(2, activity_regularizer="l2"),
], ids=["data-dependent", "activity-penalty"])
def test_compiled_prediction_falls_back_where_the_forward_pass_does_not_trace(layer):
    x = np.random.default_rng(15).random((8, 2), dtype="float32") - 0.5
    models = []
    for jit_compile in (False, True):
        keras.utils.set_random_seed(16)
        model = keras.Sequential([keras.Input((2,)), layer()])
        model.compile(optimizer="sgd", loss="mse", jit_compile=jit_compile)
        models.append(model)
    eager, compiled = models
    compiled.set_weights(eager.get_weights())
    np.testing.assert_allclose(compiled.predict(x, batch_size=4, verbose=0),
                               eager.predict(x, batch_size=4, verbose=0), rtol=1e-6)
    graphs = compiled._compiled_steps["predict"]._by_signature.values()
    assert [type(g).__name__ for g in graphs] == ["CompiledStep"]
    assert all(isinstance(loss, torch.Tensor) and not isinstance(
        loss, torch._subclasses.FakeTensor) for loss in compiled.losses)


def test_a_sequential_that_gains_or_loses_a_layer_is_compiled_again():
    # Its compiled graphs ran the old stack of layers: predict kept the old output shape.
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    x = np.ones((4, 3), "float32")
    assert model.predict(x, verbose=0).shape == (4, 2)
    model.fit(x, np.ones((4, 2), "float32"), verbose=0)
    model.add(keras.layers.Dense(5))
    assert model.predict(x, verbose=0).shape == (4, 5)
    # As eagerly: the optimizer was built for the old layers' parameters.
    with pytest.raises(ValueError, match="compile the model again"):
        model.fit(x, np.ones((4, 5), "float32"), verbose=0)
    model.pop()
    device = next(model.parameters()).device
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               model(torch.from_numpy(x).to(device)).detach().cpu(), rtol=1e-6)


def test_moving_the_weights_to_another_dtype_drops_the_compiled_steps():
    # A graph of pointwise kernels read the float64 statistics as float32 memory: wrong numbers.
    keras.utils.set_random_seed(17)
    model = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization(),
                              keras.layers.Activation("relu")])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    model.layers[0].set_weights([np.full(3, 2.0), np.full(3, 0.5), np.full(3, 0.1),
                                 np.full(3, 4.0)])
    x = np.random.default_rng(18).random((4, 3), dtype="float32")
    expected = model.predict(x, verbose=0)
    model.to(next(model.parameters()).device)  # nothing changes: the compiled steps stay
    assert "predict" in model._compiled_steps
    model.double()
    assert "predict" not in model._compiled_steps
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)
