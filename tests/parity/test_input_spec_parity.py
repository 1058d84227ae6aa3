"""InputSpec against real Keras 3, live: the same spec accepts and refuses the same inputs (a
ValueError in both; netknit's is a ShapeError that also names where the input came from), and
prints and saves the same. Skipped when Keras is not installed.
"""

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import netknit  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")


def _checked(lib, spec):
    class Checked(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.input_spec = lib.layers.InputSpec(**spec)

        def call(self, inputs):
            return inputs

        def compute_output_shape(self, input_shape):
            return input_shape

    return Checked()


SPECS = [  # (spec, input shape without the batch axis)
    (dict(ndim=3), (4,)),
    (dict(ndim=3), (4, 2)),
    (dict(min_ndim=3), (4,)),
    (dict(max_ndim=2), (4, 2)),
    (dict(axes={-1: 8}), (4,)),
    (dict(axes={-1: 8}), (2, 8)),
    (dict(shape=(None, 28, 28, 1), allow_last_axis_squeeze=True), (28, 28)),
    (dict(shape=(None, 28, 28, 1)), (28, 27, 1)),
    (dict(dtype="int32"), (4,)),
]


@pytest.mark.parametrize("spec, shape", SPECS, ids=[str(s) for s in SPECS])
def test_the_same_inputs_are_accepted_and_refused(spec, shape):
    outcomes = []
    for lib in (keras, netknit):
        try:
            _checked(lib, spec)(lib.Input(shape))
            outcomes.append("accepted")
        except ValueError as error:
            outcomes.append("refused")
            assert type(error).__name__ in ("ValueError", "ShapeError")
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("spec", [dict(shape=(None, 3), axes={-1: 3}),
                                  dict(ndim=3, dtype="float32", min_ndim=2),
                                  dict(max_ndim=4, axes={1: 2}, optional=True)])
def test_repr_and_config_match_keras(spec):
    theirs, ours = keras.layers.InputSpec(**spec), netknit.layers.InputSpec(**spec)
    assert repr(ours) == repr(theirs)
    assert ours.get_config() == theirs.get_config()
