"""Every code example of the seed articles runs with only the import changed, and builds the same
model Keras builds: names, layer order, output shapes, parameter counts, weight shapes and the
`summary()` text. The expected values were recorded from Keras 3.15.1 (torch backend)."""

import json
import pathlib
import runpy

import pytest

import netknit

HERE = pathlib.Path(__file__).parent
EXAMPLES = HERE.parents[1] / "examples" / "seeds"
REFERENCE = json.loads((HERE / "seed_reference.json").read_text())
BUILDING = sorted(name for name, ref in REFERENCE.items() if "error" not in ref)


def _run(name):
    namespace = runpy.run_path(str(EXAMPLES / f"{name}.py"))
    for variable in ("combined_model", "merged_model", "model"):
        if variable in namespace:
            return namespace[variable]
    raise AssertionError(f"{name} defines no model")


@pytest.fixture(autouse=True)
def terminal_width(monkeypatch, capsys):
    # Keras sizes the summary to the terminal; the references were taken 80 columns wide.
    monkeypatch.setenv("COLUMNS", "80")


@pytest.mark.parametrize("name", BUILDING)
def test_seed_example_builds_the_model_keras_builds(name):
    ref = REFERENCE[name]
    model = _run(name)
    assert model.name == ref["name"]
    assert model.count_params() == ref["count_params"]
    got = [[layer.name, type(layer).__name__, str(layer.output.shape), layer.count_params()]
           for layer in model.layers]
    assert got == ref["layers"]
    assert str(model.input_shape) == ref["input_shape"]
    assert str(model.output_shape) == ref["output_shape"]
    assert str([w.shape for w in model.get_weights()]) == ref["weight_shapes"]


@pytest.mark.parametrize("name", BUILDING)
def test_seed_example_summary_text_equals_keras(name, capsys):
    model = _run(name)
    capsys.readouterr()
    printed = []
    model.summary(print_fn=printed.append)
    assert printed == [(HERE / "seed_summaries" / f"{name}.txt").read_text()]


def test_seed_000_example_2_explains_the_rank_mismatch():
    """Keras rejects this example with a bare list of shapes; netknit says what to do."""
    with pytest.raises(netknit.ShapeError) as info:
        _run("seed000_ex2")
    message = str(info.value)
    assert "'concatenate' (Concatenate)" in message
    assert "ranks differ" in message
    assert "(None, 1, 1280), produced by layer 'reshape' (Reshape)" in message
    assert "(None, 16), produced by layer 'dense_1' (Dense)" in message
    assert "Reshape((1280,))" in message and "Flatten()" in message
    assert "(None, 1280)" in message


def test_every_seed_example_is_covered():
    assert sorted(p.stem for p in EXAMPLES.glob("*.py")) == sorted(REFERENCE)
