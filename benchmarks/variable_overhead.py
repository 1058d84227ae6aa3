"""What Keras's variable API costs: W5's forward and training step with its weights as
netknit `Variable`s (the default) and the same weights as plain `nn.Parameter`s.

A `Variable` is a tensor subclass, and torch checks each argument of an operation that is not
exactly a `Tensor` or `nn.Parameter`. W5 (MLP 16-32-32-1, batch 32, `workloads.py`) is all such
overhead: its matrices are tiny. Rows are interleaved over `--repeats` rounds; the table shows the
median µs per call and the ratio to the plain-parameter model. Plain PyTorch's `nn.Sequential` of
the same sizes is the third row.

    python benchmarks/variable_overhead.py --calls 3000 --repeats 7
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import netknit as keras

BATCH = 32


def w5_model():
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    return model


def with_plain_parameters(model):
    """The same model with each trainable `Variable` replaced by a plain `nn.Parameter`."""
    for layer in model.layers:
        for name, weight in list(layer._parameters.items()):
            layer._parameters[name] = torch.nn.Parameter(weight.detach(), weight.requires_grad)
    return model


def torch_model():
    return torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32),
                               torch.nn.ReLU(), torch.nn.Linear(32, 1))


def timed(function, calls):
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def forward(model, x):
    def run():
        with torch.inference_mode():
            model(x)
    return run


def train_step(model, x, y):
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(parameters, lr=0.01, foreach=True)

    def run():
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    x, y = torch.randn(BATCH, 16), torch.randn(BATCH, 1)
    models = {
        "netknit, Variables": w5_model(),
        "netknit, plain Parameters": with_plain_parameters(w5_model()),
        "plain PyTorch": torch_model(),
    }
    assert isinstance(models["netknit, Variables"].layers[0].kernel, keras.Variable)
    measures = {"forward": lambda m: forward(m, x), "train step": lambda m: train_step(m, x, y)}
    results = {(row, measure): [] for row in models for measure in measures}
    for round_ in range(args.repeats):
        for row in list(models)[round_ % 3:] + list(models)[:round_ % 3]:
            for measure, make in measures.items():
                function = make(models[row])
                function()  # warm up
                results[row, measure].append(timed(function, args.calls))
    medians = {key: statistics.median(values) for key, values in results.items()}
    reference = "netknit, plain Parameters"
    print(f"W5, batch {BATCH}: median µs per call of {args.repeats} interleaved rounds of "
          f"{args.calls} calls")
    print("| model | forward µs | × plain Parameters | train step µs | × plain Parameters |")
    print("|---|---|---|---|---|")
    for row in models:
        cells = []
        for measure in measures:
            value = medians[row, measure]
            cells += [f"{value:.1f}", f"{value / medians[reference, measure]:.2f}"]
        print(f"| {row} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
