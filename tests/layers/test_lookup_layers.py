"""StringLookup, IntegerLookup, Hashing and HashedCrossing give what Keras 3.15.1 gives.

The expected values are Keras's outputs (TensorFlow 2.21, torch backend) for the same calls,
recorded here; the hashes are TensorFlow's `to_hash_bucket_fast`/`_strong` and `cross_hashed`.
"""

import json

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers
from netknit.layers.lookup import fingerprint64, fingerprint_cat64, siphash64

# ---------------------------------------------------------------- TensorFlow's hashes

_LENGTHS = [0, 1, 3, 4, 7, 8, 16, 17, 32, 33, 64, 65, 128, 200]  # every branch of FarmHash
_DATA = [bytes((i * 7 + n) % 256 for i in range(n)) for n in _LENGTHS]
_MAX = 2**63 - 1  # TensorFlow's bucket count for the widest hash it returns


def test_fingerprint64_and_siphash_are_tensorflow_s():
    assert [fingerprint64(d) % _MAX for d in _DATA] == [
        1936946117179621456, 5161771770385946686, 4662423180930907492, 4685977051251400297,
        8010051901585887497, 3403648104430010921, 663651183927826905, 7736696382783243920,
        3992320350721670009, 3233698670931835598, 1859692024977922285, 444801980686921533,
        6615484076916436426, 202520530910294351]
    assert [siphash64((12345678901, 42), d) % _MAX for d in _DATA] == [
        7869089773135508774, 1915785626756125804, 4350935984527646279, 3027323642968932073,
        2759857377453146574, 3333081522616764451, 8902208584627340045, 3824431821993331810,
        5298216806981927902, 4367539930293045284, 1930689296768750953, 1695421325984190992,
        5030337985694564088, 3145150446561976824]


def test_crossed_fingerprints_are_tf_sparse_cross_hashed():
    def cross(*features):
        fingerprint = 0xDECAFCAFFE
        for value in features:
            value = fingerprint64(value.encode()) if isinstance(value, str) else value % 2**64
            fingerprint = fingerprint_cat64(fingerprint, value)
        return fingerprint % _MAX

    assert [cross("a", 3, "x"), cross("bb", -4, "y")] == [8321422957646178926,
                                                          2952847874436164894]


# ---------------------------------------------------------------- StringLookup

WORDS = ["b", "a", "c", "a", "b", "d", "e", "zz", "A", "é", "ß", "a b"]


def test_adapt_orders_by_count_then_by_the_larger_token():
    lookup = layers.StringLookup()
    lookup.adapt(WORDS)
    # Ties (count 1) in descending UTF-8 byte order, as Keras's np.lexsort(...)[::-1].
    assert lookup.get_vocabulary() == ["[UNK]", "b", "a", "é", "ß", "zz", "e", "d", "c", "a b",
                                       "A"]
    assert lookup.get_vocabulary(include_special_tokens=False)[:2] == ["b", "a"]
    assert lookup.vocabulary_size() == 11
    out = lookup(["a", "b", "q"])
    assert out.dtype == torch.int64 and out.tolist() == [2, 1, 0]
    assert lookup(np.array([[b"a"], ["é".encode()]])).tolist() == [[2], [3]]
    assert lookup("zz").tolist() == 5


@pytest.mark.parametrize("mode, expected", [
    ("one_hot", [[[0, 1, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0]],
                 [[0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1]]]),
    ("multi_hot", [[1, 1, 0, 0], [0, 0, 1, 1]]),
    ("count", [[1, 2, 0, 0], [0, 0, 1, 2]]),
    ("tf_idf", [[0.6323733, 1.0216513, 0.0, 0.0], [0.0, 0.0, 0.6931472, 1.3862944]]),
])
def test_output_modes(mode, expected):
    lookup = layers.StringLookup(output_mode=mode)
    lookup.adapt([["a", "b"], ["a", "c"]])
    assert lookup.get_vocabulary() == ["[UNK]", "a", "c", "b"]
    out = lookup([["a", "a", "q"], ["c", "b", "b"]])
    # Keras's torch backend gives int64 counts (float32 for tf_idf); netknit float32 for all,
    # the dtype Keras declares for them.
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_tf_idf_weights_pad_the_oov_index_with_their_mean():
    lookup = layers.StringLookup(output_mode="tf_idf")
    lookup.adapt([["a", "b"], ["a", "c"]])
    np.testing.assert_allclose(lookup.idf_weights.numpy(),
                               [0.6323733, 0.5108256, 0.6931472, 0.6931472], rtol=1e-6)
    given = layers.StringLookup(output_mode="tf_idf", vocabulary=["a", "b", "c"],
                                idf_weights=[0.5, 0.25, 1.0])
    np.testing.assert_allclose(given.idf_weights.numpy(), [0.5833333, 0.5, 0.25, 1.0],
                               rtol=1e-6)
    padded = layers.StringLookup(output_mode="tf_idf", vocabulary=["[UNK]", "a", "b", "c"],
                                 idf_weights=[0.1, 0.5, 0.25, 1.0], pad_to_max_tokens=True,
                                 max_tokens=6)
    np.testing.assert_allclose(padded([["a", "a", "z"]]).numpy(),
                               [[0.1, 1.0, 0.0, 0.0, 0.0, 0.0]], rtol=1e-6)


def test_shapes_of_the_encodings():
    one_hot = layers.StringLookup(output_mode="one_hot", vocabulary=["a", "b"])
    assert one_hot(["a", "b"]).tolist() == [[0, 1, 0], [0, 0, 1]]
    assert one_hot([["a"], ["b"]]).tolist() == [[0, 1, 0], [0, 0, 1]]  # (batch, 1) replaced
    assert one_hot("a").tolist() == [[0, 1, 0]]
    multi_hot = layers.StringLookup(output_mode="multi_hot", vocabulary=["a", "b"])
    assert multi_hot("a").tolist() == [0, 1, 0]
    assert multi_hot(["a", "b"]).tolist() == [0, 1, 1]  # a 1-D input is one sample
    padded = layers.StringLookup(output_mode="multi_hot", max_tokens=5, pad_to_max_tokens=True)
    padded.adapt(["a", "b", "b"])
    assert padded([["a"], ["b"]]).tolist() == [[0, 0, 1, 0, 0], [0, 1, 0, 0, 0]]
    assert padded.compute_output_shape((None, 3)) == (None, 5)


def test_mask_token_is_index_0_in_int_mode_and_dropped_otherwise():
    lookup = layers.StringLookup(mask_token="[M]")
    lookup.adapt([["a", "[M]", "b", "[UNK]"]])
    assert lookup.get_vocabulary() == ["[M]", "[UNK]", "b", "a"]
    assert lookup([["a", "[M]"], ["[M]", "q"]]).tolist() == [[3, 0], [0, 1]]
    hot = layers.StringLookup(mask_token="[M]", output_mode="multi_hot")
    hot.adapt([["a", "[M]", "b"]])
    assert hot.get_vocabulary() == ["[UNK]", "b", "a"]
    assert hot([["a", "[M]"], ["[M]", "q"]]).tolist() == [[0, 0, 1], [1, 0, 0]]


def test_several_oov_indices_take_tensorflow_s_hash_buckets():
    tokens = ["a", "x", "hello", "", "é", "a longer token that is more than sixty-four bytes "
              "long, really much longer than that"]
    assert layers.StringLookup(num_oov_indices=3, vocabulary=["a"])(tokens).tolist() == [
        3, 2, 1, 2, 1, 1]
    salted = layers.StringLookup(num_oov_indices=3, vocabulary=["a"], salt=[7, 11])
    assert salted(tokens).tolist() == [3, 1, 1, 1, 0, 2]
    strict = layers.StringLookup(num_oov_indices=0, vocabulary=["a"])
    with pytest.raises(ValueError, match=r"found OOV values \['b'\], consider setting"):
        strict(["a", "b"])


def test_invert_maps_indices_back_to_tokens():
    inverse = layers.StringLookup(vocabulary=["x", "y"], invert=True)
    assert inverse(np.array([0, 1, 2, 3])) == ["[UNK]", "x", "y", "[UNK]"]
    assert inverse(torch.tensor([[1], [2]])) == [["x"], ["y"]]
    masked = layers.StringLookup(vocabulary=["x"], mask_token="", invert=True)
    assert masked([0, 1, 2]) == ["", "[UNK]", "x"]


def test_set_vocabulary_checks_what_it_is_given(tmp_path):
    lookup = layers.StringLookup()
    lookup.set_vocabulary(["[UNK]", "a", "b"])  # special tokens first are recognized
    assert lookup.get_vocabulary() == ["[UNK]", "a", "b"]
    with pytest.raises(ValueError, match=r"repeated term.*\['a'\]"):
        lookup.set_vocabulary(["a", "a"])
    with pytest.raises(ValueError, match="reserved oov_token '\\[UNK\\]' in `vocabulary` at "
                                         "index 1"):
        layers.StringLookup(vocabulary=["a", "[UNK]"], invert=True)
    with pytest.raises(ValueError, match="larger than the maximum vocab size"):
        layers.StringLookup(max_tokens=2, vocabulary=["a", "b"])
    with pytest.raises(ValueError, match="empty vocabulary"):
        lookup.set_vocabulary([])
    with pytest.raises(ValueError, match="Cannot adapt layer"):
        layers.StringLookup(vocabulary=["a"]).adapt(["a"])
    # A file holds tokens only (TensorFlow's text-file tables): "\r\n" ends a line too.
    path = tmp_path / "vocabulary.txt"
    path.write_bytes(b"[UNK]\r\nx\nz z\n")
    from_file = layers.StringLookup(vocabulary=str(path))
    assert from_file.get_vocabulary() == ["[UNK]", "[UNK]", "x", "z z"]
    assert from_file(["x", "z z", "q"]).tolist() == [2, 3, 0]
    path.write_text("x\n\ny\n")
    with pytest.raises(ValueError, match="empty line found at position 2"):
        layers.StringLookup(vocabulary=str(path))


def test_encodings_need_a_vocabulary_of_fixed_size():
    with pytest.raises(RuntimeError, match="must set the layer's vocabulary before calling"):
        layers.StringLookup(output_mode="multi_hot")(["a"])
    lookup = layers.StringLookup(output_mode="count")
    lookup.adapt(["a", "b"])
    with pytest.raises(RuntimeError, match="vocabulary size cannot be changed"):
        lookup.adapt(["a"])


def test_adapt_reads_batches_from_iterables():
    pairs = [(np.array(["a", "b", "a"]), np.zeros(3)), (np.array(["a", "c"]), np.ones(2)),
             (np.array(["d", "d"]), np.ones(2))]
    lookup = layers.StringLookup(output_mode="tf_idf")
    lookup.adapt(iter(pairs), steps=2)  # each 1-D batch is one document
    assert lookup.get_vocabulary() == ["[UNK]", "a", "c", "b"]
    np.testing.assert_allclose(lookup(["a", "c"]).numpy(), [0.0, 0.5108256, 0.6931472, 0.0],
                               rtol=1e-6)
    chunked = layers.StringLookup()
    chunked.adapt(np.array(WORDS), batch_size=5)
    assert chunked.get_vocabulary()[:3] == ["[UNK]", "b", "a"]


def test_refuses_symbolic_inputs_and_sparse_outputs():
    with pytest.raises(TypeError, match="no string tensors.*`x = layer\\(texts\\)`"):
        layers.StringLookup(vocabulary=["a"])(keras.Input((3,), dtype="int64"))
    with pytest.raises(ValueError, match="sparse=True"):
        layers.StringLookup(sparse=True, output_mode="multi_hot")
    with pytest.raises(ValueError, match="output_mode to be one of int, one_hot"):
        layers.StringLookup(output_mode="ints")
    with pytest.raises(TypeError, match="takes strings"):
        layers.StringLookup(vocabulary=["a"])(torch.tensor([1]))


# ---------------------------------------------------------------- IntegerLookup


def test_integer_lookup_masks_and_buckets_like_keras():
    lookup = layers.IntegerLookup(mask_token=0, num_oov_indices=2)
    lookup.adapt(np.array([[5, 5, 0, 7], [9, 7, 7, 0]]))
    assert lookup.get_vocabulary() == [0, -1, -1, 7, 5, 9]
    assert lookup(np.array([[5, 0, 8, 11, -3, 7]])).tolist() == [[4, 0, 1, 2, 2, 3]]
    plain = layers.IntegerLookup()
    plain.adapt(torch.tensor([3, 1, 2, 3, 7, 1, 5, -5, 100]))
    assert plain.get_vocabulary() == [-1, 3, 1, 100, 7, 5, 2, -5]
    assert plain(torch.tensor([[3, 1], [7, 9]]).T).tolist() == [[1, 4], [2, 0]]
    values = np.array([1, 5, 10, 123456789, -7])
    for kwargs, expected in (({}, [3, 2, 1, 0, 2]), ({"oov_method": "farmhash"}, [3, 1, 2, 2, 2]),
                             ({"oov_method": "farmhash", "salt": 9}, [3, 1, 1, 1, 2])):
        lookup = layers.IntegerLookup(num_oov_indices=3, vocabulary=[1], **kwargs)
        assert lookup(values).tolist() == expected
    inverse = layers.IntegerLookup(vocabulary=[12, 36], invert=True, mask_token=0)
    assert inverse.get_vocabulary() == [0, -1, 12, 36]
    assert inverse(np.array([0, 1, 2, 3, 4, -1])).tolist() == [0, -1, 12, 36, -1, -1]
    with pytest.raises(TypeError, match="takes integers"):
        plain(np.array([1.5]))
    with pytest.raises(ValueError, match="`salt` can only be used when `oov_method='farmhash'`"):
        layers.IntegerLookup(salt=3)


def _lookup_model(lookup):
    inputs = keras.Input((3,), dtype="int64")
    indices = lookup(inputs)
    x = layers.Embedding(lookup.vocabulary_size(), 4)(indices)
    outputs = layers.Dense(1)(layers.GlobalAveragePooling1D()(x))
    return keras.Model(inputs, outputs), indices


def test_integer_lookup_in_a_model_trains_and_saves(tmp_path):
    lookup = layers.IntegerLookup(mask_token=0)
    lookup.adapt(np.array([[12, 36, 36], [1138, 12, 0]]))
    model, indices = _lookup_model(lookup)
    assert indices.shape == (None, 3) and indices.dtype == torch.int64
    model.compile("adam", "mse")
    data = np.array([[12, 36, 99], [1138, 0, 0]])
    model.fit(data, np.array([[1.0], [0.0]]), epochs=1, verbose=0)
    model.save(tmp_path / "lookup.keras")
    loaded = keras.saving.load_model(tmp_path / "lookup.keras")
    assert loaded.get_layer("integer_lookup").get_vocabulary() == [0, -1, 36, 12, 1138]
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0))
    hot_inputs = keras.Input((4,), dtype="int64")
    hot = layers.IntegerLookup(vocabulary=[1, 2, 3], output_mode="multi_hot")(hot_inputs)
    assert hot.shape == (None, 4) and hot.dtype == torch.float32
    dense = keras.Model(hot_inputs, layers.Dense(2)(hot))
    assert dense(torch.tensor([[1, 2, 2, 9]])).shape == (1, 2)


# ---------------------------------------------------------------- configs and Keras's files

# Keras's config of `StringLookup()` adapted on WORDS: the vocabulary is in the file's assets.
KERAS_CONFIG = {
    "name": "string_lookup", "trainable": True,
    "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
              "registered_name": None},
    "invert": False, "max_tokens": None, "num_oov_indices": 1, "oov_token": "[UNK]",
    "mask_token": None, "output_mode": "int", "sparse": False, "pad_to_max_tokens": False,
    "idf_weights": None, "vocabulary": None, "vocabulary_size": 11, "oov_method": "floormod",
    "salt": None, "encoding": "utf-8",
}


def test_config_has_keras_s_keys_and_carries_a_learned_vocabulary():
    lookup = layers.StringLookup()
    lookup.adapt(WORDS)
    config = json.loads(json.dumps(lookup.get_config()))
    assert set(config) == set(KERAS_CONFIG) | {"has_input_vocabulary"}
    assert config["vocabulary"] == lookup.get_vocabulary()
    restored = layers.StringLookup.from_config(config)
    assert restored(["a", "ß"]).tolist() == [2, 4]
    assert restored.get_config() == config
    restored.adapt(["x"])  # still adaptable, as the layer it was saved from
    assert restored.get_vocabulary() == ["[UNK]", "x"]
    given = layers.StringLookup(vocabulary=np.array(["a", "b"]))
    assert given.get_config()["vocabulary"] == ["a", "b"]
    assert "has_input_vocabulary" not in given.get_config()


def test_keras_s_config_and_assets_restore_the_vocabulary(tmp_path):
    restored = layers.StringLookup.from_config(dict(KERAS_CONFIG))
    with pytest.raises(RuntimeError, match="restored without its vocabulary.*load_assets"):
        restored(["a"])
    # Keras's assets/<layer path>/vocabulary.txt: the whole vocabulary, one token a line.
    (tmp_path / "vocabulary.txt").write_text("[UNK]\nb\na\né\nß\nzz\ne\nd\nc\na b\nA",
                                             encoding="utf-8")
    restored.load_assets(str(tmp_path))
    assert restored(["a", "A"]).tolist() == [2, 10]
    written = tmp_path / "written"
    written.mkdir()
    restored.save_assets(str(written))
    assert (written / "vocabulary.txt").read_text(encoding="utf-8") == (
        tmp_path / "vocabulary.txt").read_text(encoding="utf-8")


def test_tf_idf_weights_are_keras_s_saved_variable():
    lookup = layers.StringLookup(output_mode="tf_idf")
    lookup.adapt([["a", "b"], ["a", "c"]])
    store = {}
    lookup.save_own_variables(store)
    other = layers.StringLookup(output_mode="tf_idf")
    other.load_own_variables(store)
    other.set_vocabulary(lookup.get_vocabulary(), idf_weights=store["idf_weights"])
    np.testing.assert_allclose(other([["a", "q"]]).numpy(), lookup([["a", "q"]]).numpy())


# ---------------------------------------------------------------- Hashing and HashedCrossing


def test_hashing_bins_are_keras_s():
    hashing = layers.Hashing(num_bins=5)
    out = hashing(["A", "B", "", "hello"])
    assert out.dtype == torch.int64 and out.tolist() == [4, 3, 3, 1]
    assert hashing(np.array([[1, -2], [300, 0]])).tolist() == [[4, 0], [0, 0]]
    assert hashing(np.array([1.7, -2.5])).tolist() == [4, 0]  # floats truncated first
    assert hashing(torch.tensor([3, 4])).tolist() == [1, 3]
    assert layers.Hashing(num_bins=1000)(np.array([True, False])).tolist() == [570, 757]
    assert layers.Hashing(num_bins=5, mask_value="")(["A", "", "B"]).tolist() == [1, 0, 1]
    assert layers.Hashing(num_bins=5, mask_value=0)(np.array([0, 1, 2])).tolist() == [0, 2, 4]
    assert layers.Hashing(num_bins=5, salt=133)(["A", "B"]).tolist() == [4, 3]
    assert layers.Hashing(num_bins=5, salt=[1, 2])(np.array([3, 4])).tolist() == [0, 2]
    counts = layers.Hashing(num_bins=4, output_mode="count")(np.array([["A", "B"], ["A", "A"]]))
    assert counts.dtype == torch.float32 and counts.tolist() == [[2, 0, 0, 0], [2, 0, 0, 0]]


def test_hashing_in_a_model_and_its_config():
    inputs = keras.Input((2,), dtype="int64")
    hashed = layers.Hashing(num_bins=5, output_mode="multi_hot")(inputs)
    assert hashed.shape == (None, 5) and hashed.dtype == torch.float32
    model = keras.Model(inputs, hashed)
    assert model(torch.tensor([[1, 300]])).tolist() == [[1, 0, 0, 0, 1]]
    config = layers.Hashing(num_bins=4, salt=7).get_config()
    assert config["salt"] == [7, 7] and config["dtype"]["config"]["name"] == "int64"
    assert layers.Hashing.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="positive integer for num_bins"):
        layers.Hashing(num_bins=0)


def test_hashed_crossing_bins_are_keras_s():
    first = np.array(["A", "B", "A", "B", "A"])
    second = np.array([101, 101, 101, 102, 102])
    out = layers.HashedCrossing(num_bins=5)((first, second))
    assert out.dtype == torch.int64 and out.tolist() == [1, 4, 1, 1, 3]
    crossing = layers.HashedCrossing(num_bins=7)
    assert crossing((np.array([["A"], ["B"]]), torch.tensor([[1], [2]]))).tolist() == [[0], [5]]
    assert crossing(("A", 1)).tolist() == 0
    one_hot = layers.HashedCrossing(num_bins=5, output_mode="one_hot")((first, second))
    assert one_hot.dtype == torch.float32 and one_hot.argmax(-1).tolist() == [1, 4, 1, 1, 3]
    config = crossing.get_config()
    assert config == {"num_bins": 7, "output_mode": "int", "sparse": False,
                      "name": crossing.name, "dtype": "int64"}
    with pytest.raises(ValueError, match="at least two inputs"):
        crossing([first])
    with pytest.raises(ValueError, match="equal shapes"):
        crossing((first, second[:2]))
