"""Differences found by running keras.io examples (siamese network with a contrastive loss,
knowledge distillation, sub-pixel super-resolution) on netknit beside Keras; the expected values
are what Keras 3.15 gives."""

import numpy as np
import pytest
import torch

import netknit as keras

X = np.random.RandomState(0).rand(8, 4).astype("float32")
Y = np.random.RandomState(1).randint(0, 3, 8)


def test_leaky_relu_takes_keras_2_alpha_with_a_warning():
    with pytest.warns(UserWarning, match="Argument `alpha` is deprecated. Use `negative_slope`"):
        layer = keras.layers.LeakyReLU(alpha=0.2)
    assert layer.get_config()["negative_slope"] == 0.2
    np.testing.assert_allclose(layer(torch.tensor([-1.0, 2.0])).numpy(), [-0.2, 2.0])


def _distiller(lib):
    """The knowledge-distillation example's model: a `compute_loss` override gives the loss of
    a model compiled without one."""

    class Distiller(lib.Model):
        def __init__(self, student, teacher):
            super().__init__()
            self.student, self.teacher = student, teacher

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                         allow_empty=False):
            soft = lib.ops.softmax(self.teacher(x, training=False) / 2.0, axis=1)
            hard = lib.losses.sparse_categorical_crossentropy(y, y_pred, from_logits=True)
            return 0.5 * lib.ops.mean(hard) + lib.losses.KLDivergence()(
                soft, lib.ops.softmax(y_pred / 2.0, axis=1))

        def call(self, x):
            return self.student(x)

    def net(name):
        return lib.Sequential([lib.Input((4,)), lib.layers.Dense(3)], name=name)

    model = Distiller(net("student"), net("teacher"))
    model.compile(optimizer=lib.optimizers.SGD(0.5),
                  metrics=[lib.metrics.SparseCategoricalAccuracy()])
    return model


def _set_weights(model, seed=0):
    rng = np.random.RandomState(seed)
    for net in (model.student, model.teacher):
        net.set_weights([rng.randn(*w.shape).astype("float32") for w in net.get_weights()])


def test_overridden_compute_loss_is_the_loss_of_fit_and_evaluate(real_keras):
    results = []
    for lib in (real_keras, keras):
        model = _distiller(lib)
        _set_weights(model)
        history = model.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
        results.append((history, model.evaluate(X, Y, verbose=0, return_dict=True)))
    (expected_history, expected_eval), (history, evaluation) = results
    assert sorted(history) == ["loss", "sparse_categorical_accuracy"]
    for key, values in expected_history.items():
        np.testing.assert_allclose(history[key], values, rtol=1e-5)
    assert evaluation == pytest.approx(expected_eval, rel=1e-5)


def test_compute_loss_override_gets_training_where_its_signature_takes_it():
    seen = []

    class Model(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            seen.append(training)
            # A constant loss (3.0) that still depends on the weights, for backward.
            return keras.ops.mean((y - y_pred) ** 2) * 0 + 3.0

    model = Model()
    model.compile(optimizer="sgd")
    history = model.fit(X, X[:, :1], batch_size=8, epochs=1, verbose=0).history
    assert history["loss"] == [pytest.approx(3.0)]
    assert model.evaluate(X, X[:, :1], verbose=0) == pytest.approx(3.0)
    assert seen == [True, False]


def test_custom_step_updates_part_of_the_built_weights(real_keras):
    """The example's `train_step` gives the optimizer the student's weights only, after fit has
    built it for the teacher's too."""
    results = []
    for lib in (real_keras, keras):
        a = lib.Variable(np.ones((2,), "float32"), name="a")
        b = lib.Variable(np.full((2,), 2.0, "float32"), name="b")
        optimizer = lib.optimizers.Adam(0.1)
        optimizer.build([a, b])
        optimizer.apply([lib.ops.convert_to_tensor([1.0, -1.0])], [b])
        optimizer.apply([lib.ops.convert_to_tensor([0.5, 0.5])], [b])
        results.append([np.asarray(lib.ops.convert_to_numpy(v)) for v in (a, b)])
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    # Keras's values: `a` keeps its value, `b` takes two Adam steps.
    np.testing.assert_allclose(results[1][0], [1.0, 1.0])
    np.testing.assert_allclose(results[1][1], [1.8067843, 2.1266322], rtol=1e-6)
    outsider = keras.Variable(np.ones((2,), "float32"))
    with pytest.raises(ValueError, match="was built for 2 parameters"):
        optimizer.apply([torch.ones(2)], [outsider])


def test_cloned_sequential_names_weights_under_the_model():
    student = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)], name="student")
    clone = keras.models.clone_model(student)
    assert [w.path for w in clone.weights] == ["student/dense/kernel", "student/dense/bias"]
    assert [w.path for w in student.weights] == [w.path for w in clone.weights]


def test_resize_refuses_interpolations_keras_lacks_on_torch():
    images = np.zeros((1, 6, 6, 1), "float32")
    with pytest.raises(ValueError, match="one of bilinear, nearest, bicubic. Received: "
                                         "interpolation='area'"):
        keras.ops.image.resize(images, (2, 2), interpolation="area")
