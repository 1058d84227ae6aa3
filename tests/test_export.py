"""`model.export`: ONNX files checked in ONNX Runtime, and torch.export programs (.pt2)."""

import importlib.util
import os

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers

needs_onnx = pytest.mark.skipif(
    any(importlib.util.find_spec(p) is None for p in ("onnx", "onnxscript", "onnxruntime")),
    reason="ONNX export checks need onnx, onnxscript and onnxruntime (pip install netknit[export])",
)


def cnn():
    """A small version of the seed articles' image classifier, with a Dropout to switch off."""
    image = keras.Input(shape=(12, 12, 1))
    x = layers.Conv2D(4, 3, activation="relu")(image)
    x = layers.MaxPool2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(image, layers.Dense(3, activation="softmax")(x))


def lstm_and_dense():
    """Seed 000: a time series through an LSTM, static features through Dense, merged."""
    series = keras.Input(shape=(10, 1))
    static = keras.Input(shape=(5,))
    merged = layers.Concatenate()([
        layers.LSTM(8)(series),
        layers.Dense(4, activation="relu")(layers.Dense(6, activation="relu")(static)),
    ])
    return keras.Model([series, static], layers.Dense(1, activation="sigmoid")(merged))


def run_onnx(path, inputs):
    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(str(path))
    names = [i.name for i in session.get_inputs()]
    return session, session.run(None, dict(zip(names, inputs)))


@needs_onnx
def test_onnx_cnn_matches_predict_for_any_batch_size(tmp_path, capsys):
    model = cnn()
    model.train()  # export must trace in inference mode (no dropout) and restore the mode
    path = tmp_path / "cnn.onnx"
    assert model.export(path) == str(path)
    assert f"Saved artifact at '{path}'." in capsys.readouterr().out
    assert model.training
    for batch in (1, 5):
        x = np.random.rand(batch, 12, 12, 1).astype("float32")
        session, (result,) = run_onnx(path, [x])
        np.testing.assert_allclose(result, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    (first,) = session.get_inputs()
    assert first.name == "input_layer" and isinstance(first.shape[0], str)
    assert first.shape[1:] == [12, 12, 1]
    assert session.get_outputs()[0].name == "dense"
    assert sorted(os.listdir(tmp_path)) == ["cnn.onnx"]


@needs_onnx
def test_onnx_multi_input_lstm_model(tmp_path):
    model = lstm_and_dense()
    path = tmp_path / "seed.onnx"
    model.export(path, verbose=False)
    x = [np.random.rand(3, 10, 1).astype("float32"), np.random.rand(3, 5).astype("float32")]
    session, (result,) = run_onnx(path, x)
    assert [i.name for i in session.get_inputs()] == ["input_layer", "input_layer_1"]
    np.testing.assert_allclose(result, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_torch_export_program_round_trip(tmp_path):
    model = lstm_and_dense()
    path = tmp_path / "seed.pt2"
    model.export(path, format="torch", verbose=False)
    program = torch.export.load(str(path)).module()
    x = [torch.rand(4, 10, 1), torch.rand(4, 5)]
    torch.testing.assert_close(program(x), model(x))


def test_torch_export_keeps_unknown_lengths_dynamic(tmp_path):
    model = keras.Sequential([
        layers.Conv1D(4, 3, activation="relu", input_shape=(None, 2)),
        layers.GlobalMaxPool1D(),
        layers.Dense(2),
    ])
    path = tmp_path / "conv.pt2"
    model.export(path, format="torch", verbose=False)
    program = torch.export.load(str(path)).module()
    for steps in (5, 9):
        x = torch.rand(3, steps, 2)
        torch.testing.assert_close(program(x), model(x))


def test_subclassed_model_needs_an_input_signature(tmp_path):
    class TwoLayers(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(4, activation="relu")
            self.out = layers.Dense(1)

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    model = TwoLayers()
    model(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="Pass input_signature="):
        model.export(tmp_path / "m.pt2", format="torch")
    model.export(tmp_path / "m.pt2", format="torch", input_signature=(None, 3), verbose=False)
    x = torch.rand(6, 3)
    torch.testing.assert_close(torch.export.load(str(tmp_path / "m.pt2")).module()(x), model(x))


def test_argument_errors(tmp_path):
    model = cnn()
    with pytest.raises(
        ValueError, match="Unrecognized export format='tf_saved_model'.*not available"
    ):
        model.export(tmp_path / "m", format="tf_saved_model")
    with pytest.raises(ValueError, match="ending in '.pt2'"):
        model.export(tmp_path / "m.onnx", format="torch")
    with pytest.raises(ValueError, match=r"Unrecognized argument\(s\) \['opset_version'\]"):
        model.export(tmp_path / "m.pt2", format="torch", opset_version=18)


def test_missing_onnx_packages_are_named(tmp_path, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec",
        lambda name, *args: None if name == "onnxscript" else real_find_spec(name, *args),
    )
    with pytest.raises(ImportError, match=r"\['onnxscript'\].*netknit\[export\]"):
        cnn().export(tmp_path / "m.onnx")


def test_interrupted_export_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.pt2"
    path.write_bytes(b"previous")

    def crash(program, target):
        with open(target, "wb") as file:
            file.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch.export, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        cnn().export(path, format="torch")
    assert path.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["m.pt2"]


@needs_onnx
def test_onnx_dict_inputs_integer_tokens_and_two_outputs(tmp_path):
    tokens = keras.Input((6,), dtype="int64", name="tokens")
    numbers = keras.Input((3,), name="numbers")
    hidden = layers.Concatenate()([layers.Flatten()(layers.Embedding(20, 4)(tokens)), numbers])
    model = keras.Model(
        {"tokens": tokens, "numbers": numbers},
        [layers.Dense(2, name="score")(hidden), layers.Dense(1, name="gate")(hidden)],
    )
    path = tmp_path / "two.onnx"
    model.export(path, verbose=False)
    x = {
        "tokens": np.random.randint(0, 20, (3, 6)),
        "numbers": np.random.rand(3, 3).astype("float32"),
    }
    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(str(path))
    assert [o.name for o in session.get_outputs()] == ["score", "gate"]
    results = session.run(None, x)
    for result, expected in zip(results, model.predict(x, verbose=0)):
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)
