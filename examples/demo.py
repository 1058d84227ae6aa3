"""netknit demo: the seed articles' architectures, trained on real handwritten digits.

The data is scikit-learn's `load_digits` (1,797 scanned 8x8 digits, shipped inside the package,
no download). Two models from the seed articles are built with Keras code, summarized, trained
with the progress bar, and scored on a held-out test split:

1. the Sequential MLP of seed 002 (Dense 64 relu -> Dense 10 softmax) on the flattened pixels;
2. the image + tabular model of seed 004: a convolutional branch on the 8x8 image and a Dense
   branch on 16 tabular features (the row and column ink totals), concatenated into a classifier.

Run: python examples/demo.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import netknit as keras
from netknit import layers


def load_data(seed: int = 0):
    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")[..., None]  # (n, 8, 8, 1), channels last
    # The tabular branch: how much ink each row and each column holds.
    tabular = np.concatenate([images.sum(axis=2)[..., 0], images.sum(axis=1)[..., 0]], axis=1)
    tabular = (tabular / 8.0).astype("float32")
    labels = digits.target.astype("int64")
    return train_test_split(images, tabular, labels, test_size=0.25, random_state=seed,
                            stratify=labels)


def build_mlp() -> keras.Model:
    """Seed 002, example 1: a Sequential multilayer perceptron."""
    model = keras.Sequential(name="digits_mlp")
    model.add(layers.Dense(64, activation="relu", input_shape=(64,)))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def build_image_tabular() -> keras.Model:
    """Seed 004, example 1: image and tabular branches, each a model, concatenated."""
    image_in = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(32, 3, activation="relu")(image_in)
    x = layers.MaxPool2D(2)(x)
    x = layers.Flatten()(x)
    image_model = keras.Model(image_in, layers.Dense(64, activation="relu")(x), name="image")

    tabular_in = keras.Input(shape=(16,))
    t = layers.Dense(32, activation="relu")(tabular_in)
    tabular_model = keras.Model(tabular_in, layers.Dense(64, activation="relu")(t), name="tabular")

    image_input = keras.Input(shape=(8, 8, 1), name="image_input")
    tabular_input = keras.Input(shape=(16,), name="tabular_input")
    merged = layers.concatenate([image_model(image_input), tabular_model(tabular_input)])
    output = layers.Dense(10, activation="softmax")(merged)
    model = keras.Model([image_input, tabular_input], output, name="digits_image_tabular")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(epochs: int = 40, verbose="auto", seed: int = 0) -> dict:
    keras.utils.set_random_seed(seed)
    img_train, img_test, tab_train, tab_test, y_train, y_test = load_data(seed)
    results = {}

    print("\n== 1. Sequential MLP on flattened pixels (seed 002) ==")
    mlp = build_mlp()
    mlp.summary()
    flat_train = img_train.reshape(len(img_train), -1)
    flat_test = img_test.reshape(len(img_test), -1)
    one_hot = np.eye(10, dtype="float32")
    start = time.perf_counter()
    mlp.fit(flat_train, one_hot[y_train], epochs=epochs, batch_size=32, validation_split=0.1,
            verbose=verbose)
    _, results["mlp"] = mlp.evaluate(flat_test, one_hot[y_test], verbose=0)
    print(f"MLP test accuracy: {results['mlp']:.4f} ({time.perf_counter() - start:.1f}s)")

    print("\n== 2. Image + tabular model (seed 004) ==")
    model = build_image_tabular()
    model.summary()
    start = time.perf_counter()
    model.fit([img_train, tab_train], y_train, epochs=epochs, batch_size=32,
              validation_split=0.1, verbose=verbose)
    _, results["image_tabular"] = model.evaluate([img_test, tab_test], y_test, verbose=0)
    print(f"Image + tabular test accuracy: {results['image_tabular']:.4f} "
          f"({time.perf_counter() - start:.1f}s)")
    return results


if __name__ == "__main__":
    main()
