"""Loading is safe: no code from files, clear errors for damaged files, atomic saves."""

import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netknit as keras
from netknit import layers
from netknit.saving import SavingError, archive


def _small_model():
    x = keras.Input((3,), name="x")
    h = layers.Dense(4, activation="relu")(x)
    return keras.Model(x, layers.Dense(2)(h))


def _rewrite(path, member, transform):
    """Rewrite one member of a .keras zip with `transform(bytes) -> bytes`."""
    with zipfile.ZipFile(path) as source:
        contents = {name: source.read(name) for name in source.namelist()}
    contents[member] = transform(contents[member])
    with zipfile.ZipFile(path, "w") as target:
        for name, data in contents.items():
            target.writestr(name, data)


def test_lambda_refuses_to_load_unless_safe_mode_is_off(tmp_path):
    x = keras.Input((3,))
    model = keras.Model(x, layers.Lambda(lambda t: t * 2)(x))
    model.save(tmp_path / "l.keras")
    with pytest.raises(ValueError, match=r"Refusing to load the Python code.*safe_mode=False"):
        keras.models.load_model(tmp_path / "l.keras")
    loaded = keras.models.load_model(tmp_path / "l.keras", safe_mode=False)
    np.testing.assert_allclose(loaded.predict(np.ones((1, 3)), verbose=0), [[2, 2, 2]])


def test_a_lambda_keeps_the_values_it_reads_from_its_enclosing_function(tmp_path):
    """Keras's `__lambda__` entry: MIME base64 code, defaults, and the closure's values."""
    def scaled(scale):
        return layers.Lambda(lambda t, shift=1.0: t * scale + shift)

    x = keras.Input((3,))
    keras.Model(x, scaled(3.0)(x)).save(tmp_path / "l.keras")
    with zipfile.ZipFile(tmp_path / "l.keras") as archive_file:
        entry = json.loads(archive_file.read("config.json"))["config"]["layers"][1]
    function = entry["config"]["function"]["config"]
    assert (function["closure"], function["defaults"]) == ([3.0], [1.0])
    assert "\n" in function["code"]
    loaded = keras.models.load_model(tmp_path / "l.keras", safe_mode=False)
    np.testing.assert_allclose(loaded.predict(np.ones((1, 3)), verbose=0), [[4, 4, 4]])


def test_a_crash_during_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    model = _small_model()
    model.save(path)
    before = path.read_bytes()

    class Crash(RuntimeError):
        pass

    def writestr_then_crash(self, name, data, *args, **kwargs):
        if name == archive.WEIGHTS:
            raise Crash("killed mid-save")
        return original(self, name, data, *args, **kwargs)

    original = zipfile.ZipFile.writestr
    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr_then_crash)
    layers_after = _small_model()
    with pytest.raises(Crash):
        layers_after.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]  # no temporary file left behind
    monkeypatch.undo()
    keras.models.load_model(path)


@pytest.mark.parametrize("damage, pattern", [
    (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "not a readable"),
    (lambda p: p.write_bytes(b"not a zip at all"), "not a readable"),
    (lambda p: _rewrite(p, "config.json", lambda b: b[:-7]), "not valid JSON"),
    (lambda p: _rewrite(p, "model.weights.h5", lambda b: b[:100]), "not a readable weights"),
    (lambda p: _rewrite(p, "config.json", lambda b: b.replace(b'"units": 2', b'"units": 3')),
     r"shape \(4, 2\); the model expects \(4, 3\)"),
    (lambda p: _rewrite(p, "config.json", lambda b: b.replace(b'"Dense"', b'"Danse"', 1)),
     "Unknown layer class 'Danse'"),
    (lambda p: _rewrite(p, "config.json", lambda b: b.replace(b'"units": 4', b'"units": -4')),
     "Cannot rebuild layer 'dense'"),
    (lambda p: _rewrite(p, "config.json",
                        lambda b: b.replace(b'["dense", 0, 0]', b'["dense", 3, 0]')),
     "cannot be rebuilt"),
], ids=["truncated", "not-zip", "bad-json", "bad-h5", "units-edited", "unknown-class",
        "bad-argument", "dangling-call"])
def test_damaged_files_raise_saving_error_naming_the_problem(tmp_path, damage, pattern):
    path = tmp_path / "m.keras"
    _small_model().save(path)
    damage(path)
    with pytest.raises(SavingError, match=pattern):
        keras.models.load_model(path)


def test_missing_member_is_named(tmp_path):
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as target:
        target.writestr("config.json", "{}")
    with pytest.raises(SavingError, match="model.weights.h5"):
        keras.models.load_model(path)


def test_damaged_safetensors_raise_saving_error(tmp_path):
    path = tmp_path / "w.safetensors"
    model = _small_model()
    model.save_weights(path)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(SavingError, match="does not fit its shape"):
        model.load_weights(path)


# ---------------------------------------------------------------- fuzzing

_SAVED: dict = {}


def _saved_file() -> tuple[bytes, np.ndarray]:
    if not _SAVED:
        buffer = io.BytesIO()
        model = _small_model()
        model.compile("adam", "mse")
        model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"fuzz-{os.getpid()}.keras")
        model.save(path)
        with open(path, "rb") as f:
            buffer.write(f.read())
        os.remove(path)
        _SAVED["bytes"] = buffer.getvalue()
        _SAVED["prediction"] = model.predict(np.ones((2, 3)), verbose=0)
    return _SAVED["bytes"], _SAVED["prediction"]


def _json_edit(data: bytes, key_index: int, value) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        contents = {name: source.read(name) for name in source.namelist()}
    config = json.loads(contents["config.json"])
    slots = []

    def collect(node):
        if isinstance(node, dict):
            for k in node:
                slots.append((node, k))
                collect(node[k])
        elif isinstance(node, list):
            for i in range(len(node)):
                slots.append((node, i))
                collect(node[i])

    collect(config)
    container, key = slots[key_index % len(slots)]
    container[key] = value
    contents["config.json"] = json.dumps(config).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, member in contents.items():
            target.writestr(name, member)
    return out.getvalue()


_mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("json"), st.integers(0, 10**4),
              st.one_of(st.none(), st.booleans(), st.integers(-3, 50), st.text(max_size=6),
                        st.lists(st.integers(-1, 4), max_size=3))),
)


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
@given(mutation=_mutation)
def test_a_mutated_file_loads_identically_or_raises_saving_error(mutation, tmp_path_factory):
    data, prediction = _saved_file()
    kind, position, value = mutation
    if kind == "flip":
        index = position % len(data)
        data = data[:index] + bytes([data[index] ^ value]) + data[index + 1:]
    elif kind == "truncate":
        data = data[: position % len(data)]
    else:
        data = _json_edit(data, position, value)
    path = tmp_path_factory.mktemp("fuzz") / "m.keras"
    path.write_bytes(data)
    try:
        model = keras.models.load_model(path)
    except SavingError:
        return
    np.testing.assert_allclose(model.predict(np.ones((2, 3)), verbose=0), prediction)


def test_a_missing_file_is_named_as_keras_names_it(tmp_path):
    missing = tmp_path / "nowhere.keras"
    # Keras: ValueError("File not found: filepath=..."); also a FileNotFoundError here.
    for error in (ValueError, FileNotFoundError):
        with pytest.raises(error, match="File not found: filepath=.*nowhere.keras"):
            keras.saving.load_model(missing)
