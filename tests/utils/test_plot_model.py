"""plot_model: the layer graph drawn as SVG (no extra package) or PNG/PDF (matplotlib)."""

import importlib.util
import os
import sys
import xml.etree.ElementTree as ET

import pytest
import torch

import netknit as keras
from netknit import layers
from netknit.utils import model_to_svg, model_visualization, plot_model

SVG = "{http://www.w3.org/2000/svg}"
needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None, reason="PNG and PDF are drawn with matplotlib"
)


def cnn():
    image = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu")(image)
    x = layers.MaxPool2D(2)(x)
    x = layers.Flatten()(x)
    return keras.Model(image, layers.Dense(10, activation="softmax")(x))


def nested():
    """Seed 001: two Sequential models chained inside a functional one."""
    first = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(10,)),
                              layers.Dense(4, activation="relu")])
    second = keras.Sequential([layers.Dense(3, activation="relu", input_shape=(4,)),
                               layers.Dense(1, activation="sigmoid")])
    x = keras.Input(shape=(10,))
    return keras.Model(x, second(first(x)))


def texts(svg: str) -> list[str]:
    """The text of every <text> element (layer labels, cluster names), in order."""
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_svg_names_every_layer_and_its_shapes(tmp_path):
    model = cnn()
    path = tmp_path / "cnn.svg"
    plot_model(model, path, show_shapes=True, show_layer_names=True)
    labels = texts(path.read_text())
    for layer in model.layers:
        assert f"{layer.name} ({type(layer).__name__})" in labels
    assert "Input shape: (None, 28, 28, 1)" in labels
    assert "Output shape: (None, 26, 26, 32)" in labels
    assert "Output shape: (None, 5408)" in labels
    root = ET.fromstring(path.read_text())
    assert len(root.findall(f"{SVG}g[@class='edge']")) == len(model.layers) - 1


def test_default_label_is_the_class_as_in_keras():
    labels = texts(model_to_svg(cnn()))
    assert labels == ["InputLayer", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]


def test_activation_dtype_and_trainable_rows():
    model = cnn()
    model.layers[-1].trainable = False
    labels = texts(model_to_svg(model, show_dtype=True, show_layer_activations=True,
                                show_trainable=True))
    assert "Activation: relu" in labels and "Activation: softmax" in labels
    assert "Output dtype: float32" in labels
    assert labels.count("Trainable") == 1 and labels.count("Non-trainable") == 1


def test_expand_nested_draws_inner_layers_in_clusters():
    model = nested()
    inner = [layer.name for sub in model.layers[1:] for layer in sub.layers]
    collapsed = texts(model_to_svg(model, show_layer_names=True))
    assert "sequential (Sequential)" in collapsed
    assert not any(name in label for name in inner for label in collapsed)
    root = ET.fromstring(model_to_svg(model, show_layer_names=True, expand_nested=True))
    clusters = [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g")
                if g.get("class") == "cluster"]
    assert clusters == ["sequential", "sequential_1"]
    labels = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    for name in inner:
        assert f"{name} (Dense)" in labels
    # input -> first dense, the chain inside each, and the link between the two models.
    assert len(root.findall(f"{SVG}g[@class='edge']")) == 4


def test_expanded_clusters_contain_their_layers():
    drawing = model_visualization.model_to_drawing(nested(), expand_nested=True)
    for cluster in drawing.clusters:
        for box in cluster.items:
            assert cluster.x < box.x and box.x + box.width < cluster.x + cluster.width
            assert cluster.y < box.y and box.y + box.height < cluster.y + cluster.height


def positions(model, rankdir):
    drawing = model_visualization.model_to_drawing(model, rankdir=rankdir)
    return drawing, {box.name: (box.x, box.y) for box in drawing.boxes}


def test_rankdir_chooses_the_direction_of_the_flow():
    model = cnn()
    first, last = model.layers[0].name, model.layers[-1].name
    tall, tb = positions(model, "TB")
    wide, lr = positions(model, "LR")
    assert tb[first][1] < tb[last][1] and tall.height > tall.width
    assert lr[first][0] < lr[last][0] and wide.width > wide.height
    _, bt = positions(model, "BT")
    _, rl = positions(model, "RL")
    assert bt[first][1] > bt[last][1] and rl[first][0] > rl[last][0]


def test_branches_sit_side_by_side_and_merge():
    series, static = keras.Input((10, 1)), keras.Input((5,))
    merged = layers.Concatenate()([layers.LSTM(4)(series), layers.Dense(3)(static)])
    model = keras.Model([series, static], layers.Dense(1)(merged))
    drawing, at = positions(model, "TB")
    assert at["lstm"][1] == at["dense"][1]
    for box in drawing.boxes:  # no two boxes overlap
        for other in drawing.boxes:
            if box is not other:
                assert (box.x + box.width <= other.x or other.x + other.width <= box.x
                        or box.y + box.height <= other.y or other.y + other.height <= box.y)


def test_a_layer_applied_twice_in_a_row_gets_a_loop():
    x = keras.Input((4,))
    shared = layers.Dense(4)
    model = keras.Model(x, shared(shared(x)))
    drawing = model_visualization.model_to_drawing(model)
    assert len(drawing.boxes) == 2 and len(drawing.paths) == 2
    ET.fromstring(drawing.to_svg())


def test_subclassed_model_is_one_box():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    model = Tiny()
    model(torch.zeros(1, 3))
    assert texts(model_to_svg(model)) == ["Tiny"]


@needs_matplotlib
@pytest.mark.parametrize("name, magic", [("m.png", b"\x89PNG\r\n\x1a\n"), ("m.pdf", b"%PDF")])
def test_png_and_pdf_are_written_with_matplotlib(tmp_path, name, magic):
    path = tmp_path / name
    plot_model(nested(), path, show_shapes=True, expand_nested=True, dpi=50)
    assert path.read_bytes().startswith(magic)
    assert os.listdir(tmp_path) == [name]


def test_png_without_matplotlib_says_what_to_do(tmp_path, monkeypatch):
    for module in ("matplotlib", "matplotlib.font_manager", "matplotlib.textpath"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=r"pip install matplotlib.*model\.svg"):
        plot_model(cnn(), tmp_path / "model.png")


def test_an_interrupted_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.svg"
    path.write_text("previous")

    def crash(target, text):
        with open(target, "w") as file:
            file.write(text[:10])
        raise KeyboardInterrupt

    monkeypatch.setattr(model_visualization, "_write_text", crash)
    with pytest.raises(KeyboardInterrupt):
        plot_model(cnn(), path)
    assert path.read_text() == "previous"
    assert os.listdir(tmp_path) == ["model.svg"]


def test_argument_errors(tmp_path):
    with pytest.raises(ValueError, match=r"\.gif.*'svg', 'png', 'pdf'"):
        plot_model(cnn(), tmp_path / "m.gif")
    with pytest.raises(ValueError, match="rankdir to be one of.*Received: rankdir='XY'"):
        plot_model(cnn(), tmp_path / "m.svg", rankdir="XY")
    with pytest.raises(ValueError, match="dpi"):
        plot_model(cnn(), tmp_path / "m.png", dpi=0)
    with pytest.raises(ValueError, match="has not been built"):
        plot_model(keras.Sequential([layers.Dense(2)]), tmp_path / "m.svg")
