"""keras.datasets loaders read the files Keras downloads the way Keras reads them.

No network here: each test writes small files in the datasets' formats and stands in for
`get_file`, checking that the loader asks for Keras's file names, origins and hashes. Where
Keras is installed, its own loaders read the same files and must give the same arrays."""

import gzip
import os
import pickle

import numpy as np
import pytest

import netknit as keras
from netknit.datasets import _loading


def _stand_in(monkeypatch, module, files, calls):
    def get_file(fname=None, origin=None, **kwargs):
        calls.append({"fname": fname, "origin": origin, **kwargs})
        return files[os.path.basename(origin)]

    monkeypatch.setattr(module, "get_file", get_file)


def _both(monkeypatch, name, files, *args, compare=True, **kwargs):
    """The arrays netknit's loader gives, Keras's (None without Keras or with `compare`
    False), and netknit's get_file calls."""
    import importlib

    ours_calls, theirs_calls = [], []
    _stand_in(monkeypatch, importlib.import_module(f"netknit.datasets.{name}"), files,
              ours_calls)
    ours = getattr(keras.datasets, name).load_data(*args, **kwargs)
    try:
        theirs_module = importlib.import_module(f"keras.src.datasets.{name}")
    except ImportError:
        return ours, None, ours_calls
    if not compare:
        return ours, None, ours_calls
    _stand_in(monkeypatch, theirs_module, files, theirs_calls)
    theirs = theirs_module.load_data(*args, **kwargs)
    assert ours_calls == theirs_calls  # same names, origins, hashes and cache directories
    return ours, theirs, ours_calls


def _assert_same(ours, theirs):
    if theirs is None:
        return
    for (ours_x, ours_y), (theirs_x, theirs_y) in zip(ours, theirs):
        assert ours_x.dtype == theirs_x.dtype and ours_x.shape == theirs_x.shape
        assert [list(a) for a in ours_x] == [list(a) for a in theirs_x] if (
            ours_x.dtype == object) else np.array_equal(ours_x, theirs_x)
        assert ours_y.dtype == theirs_y.dtype and np.array_equal(ours_y, theirs_y)


def test_mnist(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mnist.npz", x_train=rng.integers(0, 255, (6, 28, 28), np.uint8),
             y_train=np.arange(6, dtype=np.uint8), x_test=np.zeros((2, 28, 28), np.uint8),
             y_test=np.arange(2, dtype=np.uint8))
    ours, theirs, calls = _both(monkeypatch, "mnist", {"mnist.npz": tmp_path / "mnist.npz"})
    (x_train, y_train), (x_test, y_test) = ours
    assert x_train.shape == (6, 28, 28) and x_train.dtype == np.uint8 and y_test.tolist() == [0, 1]
    assert calls[0]["origin"].endswith("tf-keras-datasets/mnist.npz")
    assert calls[0]["file_hash"].startswith("731c5ac6")
    _assert_same(ours, theirs)


def test_fashion_mnist_reads_the_idx_files(tmp_path, monkeypatch):
    files = {}
    for split, n in (("train", 5), ("t10k", 3)):
        labels = tmp_path / f"{split}-labels-idx1-ubyte.gz"
        images = tmp_path / f"{split}-images-idx3-ubyte.gz"
        with gzip.open(labels, "wb") as file:
            file.write(b"\0" * 8 + bytes(range(n)))
        with gzip.open(images, "wb") as file:
            file.write(b"\0" * 16 + bytes(i % 256 for i in range(n * 784)))
        files[labels.name], files[images.name] = labels, images
    ours, theirs, calls = _both(monkeypatch, "fashion_mnist", files)
    (x_train, y_train), (x_test, y_test) = ours
    assert x_train.shape == (5, 28, 28) and x_test.shape == (3, 28, 28)
    assert y_train.tolist() == [0, 1, 2, 3, 4] and x_train[0, 0, :3].tolist() == [0, 1, 2]
    assert {call["cache_subdir"] for call in calls} == {os.path.join("datasets",
                                                                     "fashion-mnist")}
    _assert_same(ours, theirs)


@pytest.mark.parametrize("name, features, kwargs", [
    ("boston_housing", 13, {}),
    ("boston_housing", 13, {"test_split": 0.5, "seed": 7}),
    ("california_housing", 8, {}),
    ("california_housing", 8, {"version": "small", "test_split": 0.1}),
])
def test_housing_shuffles_and_splits_as_keras(tmp_path, monkeypatch, name, features, kwargs):
    x = np.arange(700 * features, dtype=np.float32).reshape(700, features)
    np.savez(tmp_path / f"{name}.npz", x=x, y=np.arange(700, dtype=np.float32))
    ours, theirs, _ = _both(monkeypatch, name, {f"{name}.npz": tmp_path / f"{name}.npz"},
                            **kwargs)
    (x_train, y_train), (x_test, y_test) = ours
    total = 600 if kwargs.get("version") == "small" else 700
    assert len(x_train) == int(total * (1 - kwargs.get("test_split", 0.2)))
    assert len(x_train) + len(x_test) == total and x_train.shape[1] == features
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(total))
    np.testing.assert_array_equal(x_train[:, 0] / features, y_train)  # rows kept together
    _assert_same(ours, theirs)


def test_housing_arguments_are_checked():
    with pytest.raises(ValueError, match="Invalid `test_split` argument: 1"):
        keras.datasets.boston_housing.load_data(test_split=1)
    with pytest.raises(ValueError, match="must be between 0 and 1"):
        keras.datasets.california_housing.load_data(test_split=-0.1)


def _sequences(count, seed):
    rng = np.random.default_rng(seed)
    array = np.empty(count, dtype=object)
    # Python ints, as in the real files (NumPy scalars would need more than array globals).
    array[:] = [rng.integers(1, 40, rng.integers(2, 12)).tolist() for _ in range(count)]
    return array


@pytest.mark.parametrize("kwargs", [
    {}, {"num_words": 20, "skip_top": 3}, {"maxlen": 8, "oov_char": None},
    {"start_char": None, "index_from": 0, "seed": 5},
])
def test_imdb_encodes_words_as_keras(tmp_path, monkeypatch, kwargs):
    np.savez(tmp_path / "imdb.npz", x_train=_sequences(30, 0), y_train=np.arange(30) % 2,
             x_test=_sequences(20, 1), y_test=np.arange(20) % 2)
    ours, theirs, calls = _both(monkeypatch, "imdb", {"imdb.npz": tmp_path / "imdb.npz"},
                                **kwargs)
    (x_train, y_train), (x_test, _) = ours
    assert x_train.dtype == object and x_train.ndim == 1 and len(y_train) == len(x_train)
    if kwargs.get("start_char", 1) is not None and not kwargs.get("skip_top"):
        assert all(sequence[0] == 1 for sequence in x_train)
    if "maxlen" in kwargs:
        assert max(len(sequence) for sequence in x_train) < 8
    assert calls[0]["file_hash"].startswith("69664113")
    _assert_same(ours, theirs)


def test_imdb_maxlen_that_keeps_nothing_is_refused(tmp_path, monkeypatch):
    np.savez(tmp_path / "imdb.npz", x_train=_sequences(4, 0), y_train=np.arange(4) % 2,
             x_test=_sequences(4, 1), y_test=np.arange(4) % 2)
    _stand_in(monkeypatch, keras.datasets.imdb, {"imdb.npz": tmp_path / "imdb.npz"}, [])
    with pytest.raises(ValueError, match="no sequence was kept. Increase maxlen"):
        keras.datasets.imdb.load_data(maxlen=2)
    with pytest.raises(TypeError, match="nb_words"):
        keras.datasets.imdb.load_data(nb_words=10)


@pytest.mark.parametrize("kwargs", [{}, {"num_words": 15, "test_split": 0.3, "maxlen": 10}])
def test_reuters_encodes_and_splits_as_keras(tmp_path, monkeypatch, kwargs):
    np.savez(tmp_path / "reuters.npz", x=_sequences(40, 2), y=np.arange(40) % 46)
    ours, theirs, _ = _both(monkeypatch, "reuters", {"reuters.npz": tmp_path / "reuters.npz"},
                            **kwargs)
    (x_train, _), (x_test, _) = ours
    assert x_train.dtype == object and x_test.ndim == 1
    assert len(keras.datasets.reuters.get_label_names()) == 46
    _assert_same(ours, theirs)


def test_word_indices_are_read_from_json(tmp_path, monkeypatch):
    (tmp_path / "imdb_word_index.json").write_text('{"the": 1, "and": 2}')
    calls = []
    _stand_in(monkeypatch, keras.datasets.imdb,
              {"imdb_word_index.json": tmp_path / "imdb_word_index.json"}, calls)
    assert keras.datasets.imdb.get_word_index() == {"the": 1, "and": 2}
    assert calls[0]["file_hash"] == "bfafd718b763782e994055a2d397834f"


def _cifar_batch(path, n, label_keys, seed):
    rng = np.random.default_rng(seed)
    batch = {b"data": rng.integers(0, 255, (n, 3072), dtype=np.uint8)}
    batch.update({key.encode(): list(rng.integers(0, 10, n)) for key in label_keys})
    batch[b"batch_label"] = b"made for a test"
    with open(path, "wb") as file:
        pickle.dump({k: [int(v) for v in value] if isinstance(value, list) else value
                     for k, value in batch.items()}, file, protocol=4)


def test_cifar10_reads_the_pickled_batches_safely(tmp_path, monkeypatch):
    root = tmp_path / "extracted"
    (root / "cifar-10-batches-py").mkdir(parents=True)
    for i in range(1, 6):
        _cifar_batch(root / "cifar-10-batches-py" / f"data_batch_{i}", 3, ["labels"], i)
    _cifar_batch(root / "cifar-10-batches-py" / "test_batch", 2, ["labels"], 9)
    # Keras's loader needs full 10,000-image batches, so it is not run on these small ones.
    ours, _, calls = _both(monkeypatch, "cifar10", {"cifar-10-python.tar.gz": root},
                           compare=False)
    (x_train, y_train), (x_test, y_test) = ours
    assert x_train.shape == (15, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (15, 1) and y_train.dtype == np.uint8 and y_test.shape == (2, 1)
    assert calls[0]["extract"] is True and calls[0]["fname"] == "cifar-10-batches-py-target"
    assert calls[0]["file_hash"].startswith("6d958be0")
    with open(root / "cifar-10-batches-py" / "data_batch_2", "rb") as file:
        second = pickle.load(file)
    np.testing.assert_array_equal(
        x_train[3:6], second[b"data"].reshape(3, 3, 32, 32).transpose(0, 2, 3, 1))
    assert y_train[3:6, 0].tolist() == second[b"labels"]


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_label_modes(tmp_path, monkeypatch, label_mode):
    root = tmp_path / "extracted"
    (root / "cifar-100-python").mkdir(parents=True)
    for name, n in (("train", 4), ("test", 2)):
        _cifar_batch(root / "cifar-100-python" / name, n, ["fine_labels", "coarse_labels"], n)
    ours, theirs, _ = _both(monkeypatch, "cifar100", {"cifar-100-python.tar.gz": root},
                            label_mode=label_mode)
    assert ours[0][0].shape == (4, 32, 32, 3) and ours[1][1].shape == (2, 1)
    _assert_same(ours, theirs)
    with pytest.raises(ValueError, match="`label_mode` must be one of"):
        keras.datasets.cifar100.load_data(label_mode="medium")


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo should never run",))


def test_a_file_that_would_run_code_is_refused(tmp_path):
    hostile = np.empty(1, dtype=object)
    hostile[0] = _RunsCode()
    np.savez(tmp_path / "hostile.npz", x=hostile)
    with pytest.raises(pickle.UnpicklingError, match="Refusing to load `posix.system`"):
        _loading.load_npz(tmp_path / "hostile.npz")
    with open(tmp_path / "batch", "wb") as file:
        pickle.dump({b"data": _RunsCode()}, file)
    with pytest.raises(pickle.UnpicklingError, match="only NumPy arrays are read"):
        _loading.load_cifar_batch(tmp_path / "batch")
