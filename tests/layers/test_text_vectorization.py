"""TextVectorization gives what Keras 3.15.1 gives (the expected vocabularies and indices are
Keras's outputs, TensorFlow 2.21 with the torch backend, for the same calls)."""

import json

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers

TEXTS = ["The cat sat on the mat.", "The dog ATE my homework!",
         "  Ça va?\tÉcole  naïve\u00a0x\u2003y\x1cz ", "it's a dog-eat-dog world", ""]


def test_default_standardize_and_split_are_tensorflow_s():
    vectorizer = layers.TextVectorization()
    vectorizer.adapt(TEXTS)
    # ASCII letters lowered and ASCII punctuation stripped only; split at ASCII whitespace only.
    assert vectorizer.get_vocabulary() == [
        "", "[UNK]", "the", "École", "Ça", "world", "va", "sat", "on", "naïve\xa0x\u2003y\x1cz",
        "my", "mat", "its", "homework", "dogeatdog", "dog", "cat", "ate", "a"]
    out = vectorizer(TEXTS)
    assert out.dtype == torch.int64
    assert out.tolist() == [[2, 16, 7, 8, 2, 11], [2, 15, 17, 10, 13, 0], [4, 6, 3, 9, 0, 0],
                            [12, 18, 14, 5, 0, 0], [0, 0, 0, 0, 0, 0]]
    assert vectorizer("the cat").tolist() == [2, 16]  # one text: its tokens
    assert vectorizer(np.array([["the"], ["cat mat"]])).tolist() == [[2, 0], [16, 11]]


@pytest.mark.parametrize("standardize, vocabulary", [
    ("lower", ["", "[UNK]", "the", "École", "Ça", "world", "va?", "sat", "on",
               "naïve\xa0x\u2003y\x1cz", "my", "mat.", "it's", "homework!", "dog-eat-dog", "dog",
               "cat", "ate", "a"]),
    ("strip_punctuation", ["", "[UNK]", "The", "École", "Ça", "world", "va", "the", "sat", "on",
                           "naïve\xa0x\u2003y\x1cz", "my", "mat", "its", "homework", "dogeatdog",
                           "dog", "cat", "a", "ATE"]),
    (None, ["", "[UNK]", "The", "École", "Ça", "world", "va?", "the", "sat", "on",
            "naïve\xa0x\u2003y\x1cz", "my", "mat.", "it's", "homework!", "dog-eat-dog", "dog",
            "cat", "a", "ATE"]),
])
def test_standardize_options(standardize, vocabulary):
    vectorizer = layers.TextVectorization(standardize=standardize)
    vectorizer.adapt(TEXTS)
    assert vectorizer.get_vocabulary() == vocabulary


def test_characters_ngrams_and_sequence_length():
    chars = layers.TextVectorization(split="character", output_sequence_length=6)
    chars.adapt(["abc", "Ça"])
    assert chars.get_vocabulary() == ["", "[UNK]", "a", "Ç", "c", "b"]
    assert chars(["abc d", "ça"]).tolist() == [[2, 5, 4, 1, 1, 0], [1, 2, 0, 0, 0, 0]]
    bigrams = layers.TextVectorization(ngrams=2)
    bigrams.adapt(["a b c", "b c d"])
    assert bigrams.get_vocabulary() == ["", "[UNK]", "c", "b c", "b", "d", "c d", "a b", "a"]
    assert bigrams(["a b c d"]).tolist() == [[8, 4, 2, 5, 7, 3, 6]]  # unigrams, then bigrams
    sizes = layers.TextVectorization(ngrams=(1, 3))
    sizes.adapt(["a b c", "b c d"])
    assert sizes.get_vocabulary() == ["", "[UNK]", "c", "b", "d", "b c d", "a b c", "a"]
    assert sizes(["a b c d", "a"]).tolist() == [[7, 3, 2, 4, 6, 5], [7, 0, 0, 0, 0, 0]]
    cut = layers.TextVectorization(output_sequence_length=3)
    cut.adapt(["a b c d e"])
    assert cut(["a b c d e", "a"]).tolist() == [[6, 5, 4], [6, 0, 0]]
    assert cut(["", "  "]).tolist() == [[0, 0, 0], [0, 0, 0]]
    assert layers.TextVectorization()(["", " "]).shape == (2, 0)


@pytest.mark.parametrize("mode, expected", [
    ("multi_hot", [[1, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 1]]),
    ("count", [[1, 0, 2, 1, 0, 0], [0, 0, 0, 0, 0, 1]]),
    ("tf_idf", [[0.8270333, 0.0, 1.3862944, 0.9162908, 0.0, 0.0],
                [0.0, 0.0, 0.0, 0.0, 0.0, 0.9162908]]),
])
def test_vector_modes(mode, expected):
    vectorizer = layers.TextVectorization(output_mode=mode, max_tokens=6)
    vectorizer.adapt(["a b c a", "b c d", "e"])
    assert vectorizer.get_vocabulary() == ["[UNK]", "c", "b", "a", "e", "d"]
    out = vectorizer(["a b q b", "d"])
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_padding_to_max_tokens():
    hot = layers.TextVectorization(output_mode="multi_hot", pad_to_max_tokens=True, max_tokens=8)
    hot.adapt(["a b"])
    assert hot(["a"]).tolist() == [[0, 0, 1, 0, 0, 0, 0, 0]]
    tf_idf = layers.TextVectorization(output_mode="tf_idf", max_tokens=5, pad_to_max_tokens=True)
    tf_idf.adapt(["a a b", "b c"])
    assert tf_idf.get_vocabulary() == ["[UNK]", "b", "a", "c"]
    np.testing.assert_allclose(tf_idf(["a z z"]).numpy(), [[1.2647467, 0, 0.6931472, 0, 0]],
                               rtol=1e-6)


def test_without_split_each_text_is_a_token():
    whole = layers.TextVectorization(split=None)
    whole.adapt(["a b", "c", "a b"])
    assert whole.get_vocabulary() == ["", "[UNK]", "a b", "c"]
    assert whole(["a b", "c", "q"]).tolist() == [2, 3, 1]
    assert whole([["a b"], ["c"]]).tolist() == [[2], [3]]
    one_hot = layers.TextVectorization(output_mode="one_hot", split=None)
    one_hot.adapt(["a b", "c"])
    assert one_hot(["a b", "c", "q"]).tolist() == [[0, 0, 1], [0, 1, 0], [1, 0, 0]]
    # n-grams then run along the last axis, as tf.strings.ngrams does.
    grams = layers.TextVectorization(split=None, ngrams=2)
    grams.adapt(["a", "b", "c"])
    assert grams.get_vocabulary() == ["", "[UNK]", "c", "b", "a"]
    assert grams(["a", "b", "c"]).tolist() == [4, 3, 2, 1, 1]


def test_callables_standardize_and_split():
    upper = layers.TextVectorization(standardize=lambda texts: np.char.upper(texts))
    upper.adapt(["a b"])
    assert upper.get_vocabulary() == ["", "[UNK]", "B", "A"]
    assert upper(["a", "B b"]).tolist() == [[3, 0], [2, 2]]
    commas = layers.TextVectorization(standardize=None,
                                      split=lambda texts: [t.split(",") for t in texts])
    commas.adapt(["x,y", "y"])
    assert commas(["y,x,z"]).tolist() == [[2, 3, 1]]


def test_adapt_reads_text_datasets(tmp_path):
    for label, texts in (("neg", ["Dull film.", "Too long"]), ("pos", ["Great film!", "Fun"])):
        (tmp_path / label).mkdir()
        for index, text in enumerate(texts):
            (tmp_path / label / f"{index}.txt").write_text(text)
    dataset = keras.utils.text_dataset_from_directory(tmp_path, batch_size=3, shuffle=False,
                                                      verbose=False)
    from_dataset = layers.TextVectorization()
    from_dataset.adapt(dataset)  # (texts, labels) batches
    from_list = layers.TextVectorization()
    from_list.adapt(["Dull film.", "Too long", "Great film!", "Fun"])
    assert from_dataset.get_vocabulary() == from_list.get_vocabulary()
    assert from_list.get_vocabulary()[:3] == ["", "[UNK]", "film"]
    first_batch = layers.TextVectorization()
    first_batch.adapt(dataset, steps=1)
    assert "fun" not in first_batch.get_vocabulary()


def test_vectorized_texts_train_a_model():
    texts = ["the cat sat", "the dog ran", "a cat ran", "dogs sit"]
    vectorizer = layers.TextVectorization(max_tokens=20, output_sequence_length=5)
    vectorizer.adapt(texts)
    model = keras.Sequential([keras.Input((5,), dtype="int64"), layers.Embedding(20, 4),
                              layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(vectorizer(texts), np.array([[1.0], [0.0], [1.0], [0.0]]), epochs=1,
                        verbose=0)
    assert np.isfinite(history.history["loss"][0])
    with pytest.raises(TypeError, match="no string tensors.*model.fit\\(x, y\\)"):
        vectorizer(keras.Input((1,)))


def test_config_round_trips_and_keeps_keras_s_keys():
    vectorizer = layers.TextVectorization(output_sequence_length=4, ngrams=2)
    vectorizer.adapt(["the cat sat", "the dog"])
    config = json.loads(json.dumps(vectorizer.get_config()))
    assert set(config) == {
        "name", "trainable", "dtype", "max_tokens", "standardize", "split", "ngrams",
        "output_mode", "output_sequence_length", "pad_to_max_tokens", "sparse", "ragged",
        "vocabulary", "idf_weights", "encoding", "vocabulary_size", "has_input_vocabulary"}
    restored = layers.TextVectorization.from_config(config)
    assert restored(["the cat", "a dog sat"]).tolist() == [[2, 8, 4, 0], [1, 6, 5, 1]]
    assert restored.get_config() == config
    assert restored.compute_output_shape((None,)) == (None, 4)
    tf_idf = layers.TextVectorization(output_mode="tf_idf")
    tf_idf.adapt(["the cat sat", "the dog"])
    again = layers.TextVectorization.from_config(tf_idf.get_config())
    np.testing.assert_allclose(again(["the cat"]).numpy(), tf_idf(["the cat"]).numpy())
    assert again.compute_output_shape((None,)) == (None, 5)


@keras.saving.register_keras_serializable(package="text_vectorization_test")
def shout(texts):
    return np.char.upper(texts)


def test_a_registered_standardize_function_is_saved_by_name():
    vectorizer = layers.TextVectorization(standardize=shout)
    vectorizer.adapt(["a b"])
    entry = json.loads(json.dumps(layers.serialize(vectorizer)))
    assert entry["config"]["standardize"]["config"] == "text_vectorization_test>shout"
    restored = layers.deserialize(entry)
    assert restored._standardize is shout and restored(["b"]).tolist() == [[2]]


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="standardize to be one of .* None or a callable"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="`ngrams` must be None, a positive integer"):
        layers.TextVectorization(ngrams=0)
    with pytest.raises(ValueError, match="must not be set if `output_mode` is not 'int'"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="ragged=True.*padded"):
        layers.TextVectorization(ragged=True)
    with pytest.raises(ValueError, match="sparse=True"):
        layers.TextVectorization(sparse=True, output_mode="count")
    vectorizer = layers.TextVectorization(output_mode="one_hot", vocabulary=["a"])
    with pytest.raises(ValueError, match="pass split=None"):
        vectorizer(["a a"])
    with pytest.raises(ValueError, match="the last shape dimension must be 1"):
        layers.TextVectorization()(np.array([["a", "b"]]))


def test_a_string_input_says_to_vectorize_first():
    with pytest.raises(ValueError, match="no string tensors.*TextVectorization"):
        keras.Input((1,), dtype="string")
