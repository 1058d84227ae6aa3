"""`MultiOptimizer` and `OptimizerMap`: Keras's routing, steps, variables, configs and files."""

import warnings

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import optimizers
from netknit.callbacks.callback import learning_rate_of
from netknit.optimizers import MultiOptimizer, OptimizerMap

DATA_X = np.random.default_rng(0).random((8, 3), dtype="float32")
DATA_Y = DATA_X.sum(axis=1, keepdims=True) - 1.0


def weight(path, value):
    param = torch.nn.Parameter(torch.tensor(value, dtype=torch.float32))
    param.path = path
    return param


def two_dense(lib):
    return lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="dense_1"),
                           lib.layers.Dense(1, name="dense_2")])


def adam_and_sgd(lib, **kwargs):
    """Adam on `dense_1`, SGD with momentum on the rest."""
    return lib.optimizers.MultiOptimizer(lib.optimizers.OptimizerMap(
        default_optimizer=lib.optimizers.SGD(0.1, momentum=0.9),
        optimizer_map={".*dense_1/.*": lib.optimizers.Adam(0.01)}), **kwargs)


# ---------------------------------------------------------------- OptimizerMap


def test_a_key_matches_exactly_first_then_as_a_full_pattern_else_the_default():
    adam, sgd, rmsprop = optimizers.Adam(), optimizers.SGD(), optimizers.RMSprop()
    optimizer_map = OptimizerMap(default_optimizer=rmsprop)
    optimizer_map["encoder/layer_0/dense"] = adam
    optimizer_map["encoder/.*"] = sgd
    optimizer_map["decoder"] = adam
    assert optimizer_map["decoder"] is adam
    assert optimizer_map["encoder/layer_0/dense"] is adam  # exact, though the pattern matches too
    assert optimizer_map["encoder/layer_0/attention/query"] is sgd
    assert optimizer_map["decoder/layer_0/dense"] is rmsprop  # "decoder" is not a prefix
    assert optimizer_map(weight("encoder/kernel", 1.0)) is sgd
    assert list(optimizer_map) == ["encoder/layer_0/dense", "encoder/.*", "decoder"]
    assert optimizer_map.default_optimizer is rmsprop
    del optimizer_map["decoder"]
    assert len(optimizer_map) == 2


def test_a_path_that_two_patterns_match_is_refused():
    optimizer_map = OptimizerMap(optimizers.SGD(), {".*kernel.*": optimizers.Adam(),
                                                    ".*dense.*": optimizers.SGD()})
    with pytest.raises(ValueError, match="Multiple optimizers assigned to variable dense/kernel"):
        optimizer_map(weight("dense/kernel", 1.0))


@pytest.mark.parametrize("key, value, message", [
    ("a", optimizers.SGD(), "'a' already exists in the OptimizerMap"),
    (3, optimizers.SGD(), "key must be a string. Received: 3"),
    ("b", "adam", "optimizer must be a Keras Optimizer instance. Received: adam"),
    ("b", optimizers.LossScaleOptimizer(optimizers.SGD()),
     "optimizer cannot be LossScaleOptimizer"),
    ("b", MultiOptimizer(OptimizerMap(optimizers.SGD())), "optimizer cannot be MultiOptimizer"),
])
def test_entries_are_checked_as_keras_checks_them(key, value, message):
    optimizer_map = OptimizerMap(optimizers.SGD())
    optimizer_map["a"] = optimizers.Adam()
    with pytest.raises(ValueError, match=message):
        optimizer_map[key] = value
    if key != "a":  # the constructor's entries too (Keras only checks them when it builds)
        with pytest.raises(ValueError, match=message):
            OptimizerMap(optimizers.SGD(), {key: value})


def test_the_constructor_checks_its_arguments():
    with pytest.raises(TypeError, match="default_optimizer must be a Keras Optimizer instance"):
        OptimizerMap("sgd")
    with pytest.raises(TypeError, match="optimizer_map must be a dictionary"):
        OptimizerMap(optimizers.SGD(), [("a", optimizers.SGD())])
    with pytest.raises(AttributeError, match="picks a variable's optimizer by its `path`"):
        OptimizerMap(optimizers.SGD())(torch.nn.Parameter(torch.ones(2)))


# ---------------------------------------------------------------- MultiOptimizer


def test_inner_optimizers_are_the_maps_values_then_its_default_then_a_functions_choices():
    adam, sgd, rmsprop = optimizers.Adam(), optimizers.SGD(), optimizers.RMSprop()
    multi = MultiOptimizer(OptimizerMap(rmsprop, {"^dense_1/.*": adam, "^dense_2/.*": sgd}))
    assert multi.optimizers == [adam, sgd, rmsprop]
    assert [v.path for v in multi.variables] == [
        "multi_optimizer/iteration", "multi_optimizer/learning_rate", "adam/iteration",
        "adam/learning_rate", "sgd/iteration", "sgd/learning_rate", "rm_sprop/iteration",
        "rm_sprop/learning_rate"]  # Keras's automatic name
    multi.build([weight("other/kernel", [1.0]), weight("dense_1/kernel", [1.0])])
    assert not sgd.built and adam.built and rmsprop.built

    adam, sgd = optimizers.Adam(), optimizers.SGD()
    chosen = MultiOptimizer(lambda v: adam if "dense_1" in v.path else sgd)
    assert chosen.optimizers == []
    chosen.build([weight("dense_2/kernel", [1.0]), weight("dense_1/kernel", [1.0])])
    assert chosen.optimizers == [sgd, adam]


def test_apply_routes_each_gradient_to_its_optimizer_and_counts_the_steps():
    # Keras's test_stateful_apply, numbers included.
    w1 = weight("dense_1/kernel", [[2.0, 2.0]])
    w2 = weight("dense_2/kernel", [[3.0, 3.0]])
    other = weight("other/kernel", [[4.0, 4.0]])
    idle = optimizers.Adam()
    multi = MultiOptimizer(OptimizerMap(optimizers.SGD(0.0), {
        "^dense_1/.*": optimizers.SGD(0.1), "^dense_2/.*": optimizers.SGD(1.0), "^none/.*": idle}))
    multi.build([w1, w2, other])
    multi.apply([torch.ones(1, 2)] * 3, [w1, w2, other])
    np.testing.assert_allclose(w1.detach(), [[1.9, 1.9]])
    np.testing.assert_allclose(w2.detach(), [[2.0, 2.0]])
    np.testing.assert_allclose(other.detach(), [[4.0, 4.0]])
    assert int(multi.iterations) == 1
    assert [int(o.iterations) for o in multi.optimizers] == [1, 1, 0, 1]  # idle got no weights
    assert not idle.built


def test_learning_rate_is_the_inner_optimizers_own():
    multi = adam_and_sgd(keras)
    with pytest.raises(AttributeError, match="Learning rate cannot be accessed on a MultiOpt"):
        multi.learning_rate  # noqa: B018
    with pytest.raises(AttributeError, match="Learning rate cannot be set on a MultiOptimizer"):
        multi.learning_rate = 0.1
    assert not hasattr(multi, "learning_rate")


def test_the_loss_scale_factor_replaces_the_inner_ones_and_unscales_the_gradients():
    sgd = optimizers.SGD(0.1, loss_scale_factor=2.0)
    other = optimizers.Adam(loss_scale_factor=3.0)
    multi = MultiOptimizer(OptimizerMap(sgd, {"^dense_1/.*": sgd, "^x/.*": other}),
                           loss_scale_factor=5.0)
    assert sgd.loss_scale_factor == other.loss_scale_factor == 5.0
    assert float(multi.scale_loss(torch.tensor(2.0))) == 10.0
    w = weight("dense_1/kernel", [[2.0, 2.0]])
    multi.apply([torch.full((1, 2), 10.0)], [w])
    np.testing.assert_allclose(w.detach(), [[1.8, 1.8]])  # 2 - 0.1 * 10 / 5
    multi.loss_scale_factor = None
    assert sgd.loss_scale_factor is other.loss_scale_factor is None
    assert MultiOptimizer(OptimizerMap(other)).optimizers[0].loss_scale_factor is None


def test_a_loss_scale_optimizer_wraps_it_and_restores_every_slot_after_a_bad_step():
    # Keras's test_multi_optimizer_wrapped_in_loss_scale_optimizer, then a step with an inf.
    first, second = optimizers.SGD(0.1, momentum=0.5), optimizers.Adam(0.1)
    multi = MultiOptimizer(OptimizerMap(second, {".*dense_1/.*": first}), loss_scale_factor=5.0)
    wrapped = optimizers.LossScaleOptimizer(multi, initial_scale=10.0)
    assert multi.loss_scale_factor is first.loss_scale_factor is second.loss_scale_factor is None
    w1, w2 = weight("dense_1/kernel", [[2.0, 2.0]]), weight("dense_2/kernel", [[2.0, 2.0]])
    wrapped.apply([torch.full((1, 2), 10.0)] * 2, [w1, w2])
    np.testing.assert_allclose(w1.detach(), [[1.9, 1.9]])
    np.testing.assert_allclose(w2.detach(), [[1.9, 1.9]], rtol=1e-6)
    before = [v.detach().clone() for v in [w1, w2, *multi.variables]]
    wrapped.apply([torch.full((1, 2), float("inf")), torch.ones(1, 2)], [w1, w2])
    for old, new in zip(before, [w1, w2, *multi.variables]):
        np.testing.assert_array_equal(new.detach(), old)
    assert float(wrapped.dynamic_scale) == 5.0


MISSING_GRADIENT = r"Gradients do not exist for variables \['dense_3/kernel'\]"


def test_a_parameter_without_a_gradient_is_left_out_with_a_warning_as_in_keras():
    w1, w2, w3 = (weight(f"dense_{i}/kernel", [1.0]) for i in (1, 2, 3))
    first, second = optimizers.SGD(0.5), optimizers.SGD(0.25)
    multi = MultiOptimizer(OptimizerMap(second, {"^dense_1/.*": first}))
    with pytest.warns(UserWarning, match=MISSING_GRADIENT):
        multi.apply([torch.ones(1), torch.ones(1), None], [w1, w2, w3])
    assert [float(w.detach()) for w in (w1, w2, w3)] == [0.5, 0.75, 1.0]
    # Inside a LossScaleOptimizer the step takes the same way through the update.
    w1, w2, w3 = (weight(f"dense_{i}/kernel", [1.0]) for i in (1, 2, 3))
    multi = MultiOptimizer(OptimizerMap(optimizers.SGD(0.25), {"^dense_1/.*": optimizers.SGD(0.5)}))
    wrapped = optimizers.LossScaleOptimizer(multi, initial_scale=1.0)
    with pytest.warns(UserWarning, match=MISSING_GRADIENT):
        wrapped.apply([torch.ones(1), torch.ones(1), None], [w1, w2, w3])
    assert [float(w.detach()) for w in (w1, w2, w3)] == [0.5, 0.75, 1.0]
    # An inner optimizer none of whose weights has a gradient: Keras's error.
    with warnings.catch_warnings(), pytest.raises(ValueError, match="No gradients provided"):
        warnings.simplefilter("ignore")
        multi.apply([torch.ones(1), None, None], [w1, w2, w3])


@pytest.mark.parametrize("inner, message", [
    (optimizers.LossScaleOptimizer(optimizers.SGD()),
     "LossScaleOptimizer cannot be used inside an MultiOptimizer"),
    (MultiOptimizer(OptimizerMap(optimizers.SGD())),
     "MultiOptimizer cannot be used inside an MultiOptimizer"),
    ("sgd", "Optimizer for variable dense/kernel is not an Optimizer instance"),
])
def test_a_function_that_chooses_a_wrapper_or_no_optimizer_is_refused_at_build(inner, message):
    with pytest.raises(ValueError, match=message):
        MultiOptimizer(lambda v: inner).build([weight("dense/kernel", [1.0])])


def test_an_inner_optimizer_built_for_other_weights_is_refused():
    adam = optimizers.Adam()
    adam.build([weight("a/kernel", [1.0])])
    with pytest.raises(ValueError, match="was built for 1 parameters"):
        MultiOptimizer(OptimizerMap(adam)).build([weight("b/kernel", [1.0])])
    with pytest.raises(TypeError, match="optimizer_map must be an OptimizerMap or a function"):
        MultiOptimizer({"a": adam})


def test_fit_gives_keras_numbers():
    # Keras's test_multi_optimizer_with_model_fit.
    model = keras.Sequential([
        keras.layers.Dense(2, kernel_initializer="ones", use_bias=False, name="dense_1"),
        keras.layers.Dense(1, kernel_initializer="ones", use_bias=False, name="dense_2")])
    optimizer = MultiOptimizer(OptimizerMap(
        default_optimizer=optimizers.SGD(learning_rate=0.1),
        optimizer_map={".*dense_1/.*": optimizers.SGD(learning_rate=1e-3),
                       ".*dense_2/.*": optimizers.SGD(learning_rate=1e-2)}))
    model.compile(loss="mse", optimizer=optimizer, run_eagerly=True)
    model.fit(np.ones((1, 1), "float32"), np.zeros((1, 1), "float32"), batch_size=1, verbose=0)
    np.testing.assert_allclose(model.layers[0].kernel.detach(), [[0.996, 0.996]])
    np.testing.assert_allclose(model.layers[1].kernel.detach(), [[0.96], [0.96]])
    assert [int(o.iterations) for o in [optimizer, *optimizer.optimizers]] == [1, 1, 1, 0]


def test_fit_ends_with_the_moving_averages_of_the_inner_optimizers_that_keep_them():
    model = two_dense(keras)
    model.compile(optimizer=MultiOptimizer(OptimizerMap(
        optimizers.SGD(0.1), {".*dense_1/.*": optimizers.SGD(0.1, use_ema=True,
                                                               ema_momentum=0.0)})), loss="mse")
    model.fit(DATA_X, DATA_Y, batch_size=8, epochs=2, verbose=0)  # one step an epoch
    assert model.optimizer.optimizers[0]._slots["average"][0] is not None
    np.testing.assert_array_equal(model.layers[0].kernel.detach(),
                                  model.optimizer.optimizers[0]._slots["average"][0])


def test_state_dict_round_trip():
    ours = two_dense(keras)
    ours.compile(optimizer=adam_and_sgd(keras), loss="mse")
    ours.fit(DATA_X, DATA_Y, batch_size=4, verbose=0)
    state = ours.optimizer.state_dict()
    again = adam_and_sgd(keras)
    again.load_state_dict(state)  # kept until built
    again.build(list(ours.parameters()))
    assert int(again.iterations) == 2
    for a, b in zip(again.variables, ours.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(ValueError, match="has 2 inner optimizers, but the saved state has 1"):
        again.load_state_dict({**state, "optimizers": state["optimizers"][:1]})


def test_config_round_trip_and_lookup_by_name():
    multi = adam_and_sgd(keras, loss_scale_factor=4.0)
    config = optimizers.serialize(multi)
    assert config["class_name"] == "MultiOptimizer"
    assert list(config["config"]) == ["optimizer_map", "loss_scale_factor", "name"]
    again = optimizers.deserialize(config)
    assert [type(o).__name__ for o in again.optimizers] == ["Adam", "SGD"]
    assert again.get_config() == multi.get_config()
    entry = config["config"]["optimizer_map"]
    assert isinstance(optimizers.deserialize(entry), OptimizerMap)
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get(entry)
    with pytest.raises(TypeError, match="optimizer_map"):
        optimizers.get("multioptimizer")


def test_a_registered_function_as_the_map_is_saved_by_name():
    @keras.saving.register_keras_serializable(package="test_multi")
    def by_layer(variable):
        return SGD_FOR_ALL

    multi = MultiOptimizer(by_layer)
    config = multi.get_config()
    assert config["optimizer_map"]["config"] == "test_multi>by_layer"
    again = MultiOptimizer.from_config(config)
    again.build([weight("a/kernel", [1.0])])
    assert again.optimizers == [SGD_FOR_ALL]


SGD_FOR_ALL = optimizers.SGD()


@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "jit"])
def test_a_jit_compiled_step_matches_the_eager_one(jit_compile):
    keras.utils.set_random_seed(1)
    model = two_dense(keras)
    model.compile(optimizer=adam_and_sgd(keras), loss="mse", jit_compile=jit_compile)
    model.fit(DATA_X, DATA_Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert ("train" in model._compiled_steps) == jit_compile
    keras.utils.set_random_seed(1)
    eager = two_dense(keras)
    eager.compile(optimizer=adam_and_sgd(keras), loss="mse")
    eager.fit(DATA_X, DATA_Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights() + model.optimizer.variables,
                    eager.get_weights() + eager.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=2e-6)


def test_a_keras_file_keeps_the_training_state(tmp_path):
    ours = two_dense(keras)
    ours.compile(optimizer=adam_and_sgd(keras), loss="mse")
    ours.save(tmp_path / "unbuilt.keras")  # before a step: only the step counts and rates
    assert keras.models.load_model(tmp_path / "unbuilt.keras").optimizer.built is False
    ours.fit(DATA_X, DATA_Y, batch_size=4, verbose=0)
    ours.save(tmp_path / "model.keras")
    again = keras.models.load_model(tmp_path / "model.keras")
    assert [v.path.split("/")[0] for v in again.optimizer.variables] == \
        [v.path.split("/")[0] for v in ours.optimizer.variables]
    for a, b in zip(again.optimizer.variables, ours.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for model in (ours, again):
        model.fit(DATA_X, DATA_Y, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(again.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(a, b)
    # Into a model whose map sends the weights elsewhere: refused, saying why.
    other = two_dense(keras)
    other.compile(optimizer=MultiOptimizer(OptimizerMap(optimizers.SGD())), loss="mse")
    with pytest.raises(ValueError, match="saved from a different model or optimizer map"):
        other.load_weights(tmp_path / "model.keras")


def test_a_loss_scale_optimizer_around_it_saves_and_loads(tmp_path):
    model = two_dense(keras)
    model.compile(optimizer=optimizers.LossScaleOptimizer(adam_and_sgd(keras)), loss="mse")
    model.save(tmp_path / "unbuilt.keras")
    keras.models.load_model(tmp_path / "unbuilt.keras")
    model.fit(DATA_X, DATA_Y, batch_size=4, verbose=0)
    model.save(tmp_path / "model.keras")
    again = keras.models.load_model(tmp_path / "model.keras")
    for a, b in zip(again.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


# ---------------------------------------------------------------- against Keras itself


@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "jit"])
def test_fit_matches_live_keras(jit_compile):
    real_keras = pytest.importorskip("keras")
    real_keras.backend.clear_session()
    theirs, ours = two_dense(real_keras), two_dense(keras)
    ours.set_weights(theirs.get_weights())
    theirs.compile(optimizer=adam_and_sgd(real_keras), loss="mse")
    ours.compile(optimizer=adam_and_sgd(keras), loss="mse", jit_compile=jit_compile)
    their_history = theirs.fit(DATA_X, DATA_Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    our_history = ours.fit(DATA_X, DATA_Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert ("train" in ours._compiled_steps) == jit_compile
    np.testing.assert_allclose(our_history.history["loss"], their_history.history["loss"],
                               rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert [v.path for v in ours.optimizer.variables] == \
        [v.path for v in theirs.optimizer.variables]
    for a, b in zip(ours.optimizer.variables, theirs.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    assert ours.optimizer.variables_size()[0] == sum(
        int(np.prod(v.shape)) for v in theirs.optimizer.variables)


def test_configs_load_both_ways_with_keras():
    real_keras = pytest.importorskip("keras")
    theirs = adam_and_sgd(real_keras, loss_scale_factor=2.0)
    ours = optimizers.deserialize(real_keras.optimizers.serialize(theirs))
    assert ours.get_config() == optimizers.deserialize(optimizers.serialize(ours)).get_config()
    back = real_keras.optimizers.deserialize(optimizers.serialize(ours))
    for rebuilt in (ours, back):
        assert [type(o).__name__ for o in rebuilt.optimizers] == ["Adam", "SGD"]
        assert rebuilt.loss_scale_factor == 2.0
        assert float(rebuilt.optimizers[1].momentum) == 0.9
    assert [v.path for v in ours.variables] == [v.path for v in theirs.variables]


def test_keras_files_load_both_ways(tmp_path):
    real_keras = pytest.importorskip("keras")
    real_keras.backend.clear_session()
    theirs = two_dense(real_keras)
    theirs.compile(optimizer=adam_and_sgd(real_keras), loss="mse")
    theirs.fit(DATA_X, DATA_Y, batch_size=4, verbose=0)
    theirs.save(tmp_path / "keras.keras")
    ours = keras.models.load_model(tmp_path / "keras.keras")
    assert isinstance(ours.optimizer, MultiOptimizer)
    for a, b in zip(ours.optimizer.variables, theirs.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
    # One more epoch on each side from the same state, then back to Keras.
    theirs.fit(DATA_X, DATA_Y, batch_size=4, shuffle=False, verbose=0)
    ours.fit(DATA_X, DATA_Y, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    ours.save(tmp_path / "netknit.keras")
    again = real_keras.models.load_model(tmp_path / "netknit.keras")
    assert int(again.optimizer.iterations.numpy()) == 4
    for a, b in zip(again.optimizer.variables, theirs.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_learning_rate_callbacks_act_on_each_inner_optimizer_as_in_keras():
    model = two_dense(keras)
    model.compile(optimizer=adam_and_sgd(keras), loss="mse")
    history = model.fit(DATA_X, DATA_Y, batch_size=8, epochs=3, verbose=0, callbacks=[
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5),
        keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5,
                                          min_delta=10)])
    # Keras 3.15.1 (torch backend), the same callbacks: one log entry per inner optimizer.
    rates = {k: [round(v, 7) for v in values] for k, values in history.history.items()
             if k.startswith("learning_rate")}
    assert rates == {"learning_rate_adam": [0.005, 0.0025, 0.000625],
                     "learning_rate_sgd": [0.05, 0.025, 0.00625]}
    assert [round(learning_rate_of(o), 7) for o in model.optimizer.optimizers] == [
        0.0003125, 0.003125]


def test_swap_ema_weights_swaps_the_inner_optimizers_that_keep_averages():
    model = two_dense(keras)
    model.compile(optimizer=MultiOptimizer(OptimizerMap(
        optimizers.SGD(0.1), {".*dense_1/.*": optimizers.SGD(0.1, use_ema=True)})), loss="mse")
    model.fit(DATA_X, DATA_Y, batch_size=4, epochs=2, verbose=0,
              callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    averaging = model.optimizer.optimizers[0]
    np.testing.assert_array_equal(model.layers[0].kernel.detach(), averaging._slots["average"][0])
    plain = two_dense(keras)
    plain.compile(optimizer=adam_and_sgd(keras), loss="mse")
    with pytest.raises(ValueError, match="at least one inner optimizer has `use_ema=True`"):
        plain.fit(DATA_X, DATA_Y, epochs=1, verbose=0,
                  callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True)])
