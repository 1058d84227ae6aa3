"""An ordinary Keras training script that also runs data-parallel, unchanged.

One process:                 python examples/distributed_fit.py
Two processes, one machine:  torchrun --nproc_per_node 2 examples/distributed_fit.py
Two machines, 4 GPUs each:   torchrun --nnodes 2 --nproc_per_node 4 --node_rank <0 or 1> \
                                 --master_addr <address of machine 0> --master_port 29500 \
                                 examples/distributed_fit.py

Under torchrun, each process trains a replica on its shard of the data (its own GPU when there
are GPUs), gradients are averaged at every step, and the metrics printed are those of all the data.
"""

import numpy as np

import netknit as keras
from netknit import layers


def make_data(samples=8192, features=784, classes=10, seed=0):
    """A synthetic classification task: class means in feature space plus noise."""
    rng = np.random.default_rng(seed)
    means = 0.3 * rng.standard_normal((classes, features)).astype("float32")
    labels = rng.integers(0, classes, samples)
    x = means[labels] + 2.0 * rng.standard_normal((samples, features)).astype("float32")
    return x, labels


def main():
    keras.utils.set_random_seed(0)
    x, y = make_data()
    model = keras.Sequential([
        keras.Input((784,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=128, epochs=3, validation_split=0.1,
              callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=1)])
    loss, accuracy = model.evaluate(x, y, batch_size=256, verbose=0)
    predictions = model.predict(x[:5], verbose=0)
    # Every process holds the same results; one of them reports.
    if keras.distributed.rank() == 0:
        print(f"{keras.distributed.world_size()} process(es): loss {loss:.4f}, "
              f"accuracy {accuracy:.4f}, first predictions {predictions.argmax(axis=1)}")


if __name__ == "__main__":
    main()
