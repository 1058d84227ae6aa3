"""`compile`, `fit`, `evaluate`, `predict` and the `*_on_batch` methods, as a mixin of `Model`.

The trainer sees the model only as a module with `forward` and parameters. Everything that can be
decided once is decided before the first step (data converted and moved, losses and metrics
resolved, the parameter list built); each step then does what a hand-written PyTorch loop does:
forward, loss, backward, optimizer step, metric update on the device. Values are read back to the
host only when the progress bar refreshes and at the end of an epoch.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import functools
import inspect
import warnings
from collections.abc import Mapping, MutableMapping

import torch
from torch import nn

from .. import callbacks as callbacks_module
from .. import config, scopes
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from ..distributed.data_parallel import start_data_parallel
from ..dtype_policies import to_numpy
from ..graph import nest
from ..graph.shapes import format_shape
from ..layers.layer import plain_weights
from ..losses import detached
from ..remat import rematerializes
from .compile_utils import (
    CompileMetrics,
    LossContainer,
    MetricsContainer,
    flatten_outputs,
    flatten_targets,
)
from .data import (
    class_weights_to_sample_weights,
    data_adapter_for,
    is_in_memory,
    split_validation,
    to_tensors,
)
from .jit import CompiledForward, CompiledStep, CompiledSteps
from .loop import loop
from .progress import resolve_verbose


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class _NotCompiledError(ValueError, AttributeError):
    """Training or evaluating a model that was not compiled. Keras raises ValueError from `fit`
    (and `*_on_batch`) and, from `evaluate`, an AttributeError; this is both."""


class _BatchLogs(MutableMapping):
    """Batch-level logs read from the device only when a callback asks for a value. A callback
    may add entries (seen by the callbacks after it, as in Keras's shared dict) and `copy()`
    them to a plain dict."""

    def __init__(self):
        self._added = {}

    def _keys(self):
        raise NotImplementedError

    def _value(self, key):
        raise NotImplementedError

    def __getitem__(self, key):
        if key in self._added:
            return self._added[key]
        return self._value(key)

    def __setitem__(self, key, value):
        self._added[key] = value

    def __delitem__(self, key):
        del self._added[key]

    def __contains__(self, key) -> bool:
        return key in self._added or key in self._keys()

    def __iter__(self):
        yield from self._keys()
        yield from (key for key in self._added if key not in self._keys())

    def __len__(self):
        return len(set(self._keys()) | set(self._added))

    def copy(self) -> dict:
        return dict(self.items())

    def for_next_batch(self) -> "_BatchLogs":
        """These logs for the next batch: Keras gives each batch a new dict, so the entries
        callbacks added do not carry over (new logs then; the same ones when nothing was added).
        """
        if not self._added:
            return self
        fresh = copy.copy(self)
        fresh._added = {}
        return fresh


class LazyLogs(_BatchLogs):
    """The logs of the default steps: each metric's result, read when asked for."""

    def __init__(self, metrics: list[tuple[str, object]]):
        super().__init__()
        self._metrics = dict(sorted(metrics, key=lambda pair: pair[0]))

    def _keys(self):
        return self._metrics  # the keys, without reading a value from the device

    def _value(self, key):
        return _to_float(self._metrics[key].result())


class StepLogs(_BatchLogs):
    """Batch-level logs of a step the user wrote: what it returned, as Keras's callbacks see it
    (`pythonified`), read from the device only when a callback asks for it."""

    def __init__(self, returned):
        super().__init__()
        self._returned = returned
        self._logs = None

    def _keys(self):
        if self._logs is None:
            returned = self._returned
            self._logs = pythonified(returned) if isinstance(returned, Mapping) else {}
        return self._logs

    def _value(self, key):
        return self._keys()[key]


def pythonified(logs: Mapping) -> dict:
    """Logs as Keras's callbacks receive them: keys sorted, the entries of a nested dict (such as
    `compile_metrics`'s result) in its place, numbers as Python floats."""
    result = {}
    for key, value in sorted(logs.items()):
        if isinstance(value, Mapping):
            result.update(pythonified(value))
        elif isinstance(value, torch.Tensor):
            result[key] = _to_float(value)
        else:
            try:
                result[key] = float(value)
            except (TypeError, ValueError):
                result[key] = value
    return result


def _step_numbers(values: tuple, like: torch.Tensor) -> torch.Tensor:
    """The optimizer's step numbers as a tensor on `like`'s device, without making the host wait
    for the device: on a GPU they go through pinned memory with an asynchronous copy."""
    if like.device.type == "cpu":
        return torch.tensor(values, dtype=like.dtype)
    pinned = torch.tensor(values, dtype=like.dtype, pin_memory=like.device.type == "cuda")
    return pinned.to(like.device, non_blocking=True)


def _to_float(value):
    if isinstance(value, torch.Tensor):
        return float(value.detach().cpu()) if value.numel() == 1 else value.detach().cpu().numpy()
    return value


class Trainer:
    """Keras's training API. Mixed into `Model`; see each method."""

    compiled = False
    optimizer = None
    stop_training = False
    _scales_loss = False  # whether backward goes through the optimizer's loss scale
    _parallel = None  # a DataParallel during fit/evaluate/predict in several processes
    _ddp = None  # the DistributedDataParallel wrapper the training step runs through
    loss = None  # `compile`'s loss argument, as given (Keras's `model.loss`)
    run_eagerly = False  # `compile`'s flag, as Keras keeps it: netknit's steps are eager anyway

    # ------------------------------------------------------------------ compile

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile=False, auto_scale_loss=True, device=None):
        """Configure the model for training.

        Args:
            optimizer: a name (`"adam"`) or an optimizer instance.
            loss: a name (`"mse"`), a `Loss`, a callable `fn(y_true, y_pred)`; or one per output
                as a list (output order) or a dict (by output name).
            loss_weights: weights of the per-output losses in the total, as a list or dict.
            metrics: names or objects; a flat list applies to every output, a list of lists or a
                dict gives them per output. `"accuracy"` becomes binary, categorical or sparse
                categorical accuracy from the loss and the shapes, as in Keras.
            weighted_metrics: metrics that also take `sample_weight`/`class_weight` into account.
            run_eagerly: kept as `model.run_eagerly` (netknit's steps run eagerly unless
                `jit_compile=True`, which this turns off, with a warning, as in Keras).
            jit_compile: compile the whole training step (forward, loss, backward, update) with
                `torch.compile`.
            auto_scale_loss: under the `"mixed_float16"` dtype policy (the model's), wrap the
                optimizer in a `LossScaleOptimizer`, as Keras does, so that small float16
                gradients do not vanish.
            device: where to train, e.g. `"cuda"` or `"cpu"`; by default CUDA when available.
        """
        optimizer = optimizers_module.get(optimizer)
        self.optimizer = optimizer
        policy = getattr(self, "dtype_policy", None)
        if (auto_scale_loss and optimizer is not None and policy is not None
                and policy.name == "mixed_float16"
                and not isinstance(optimizer, optimizers_module.LossScaleOptimizer)):
            self.optimizer = optimizers_module.LossScaleOptimizer(optimizer,
                                                                  name="loss_scale_optimizer")
        previous = getattr(self, "_compile_config", None)
        if previous is not None:
            # As Keras, compiling again without a loss or without metrics keeps those given
            # before (a new optimizer alone, e.g. to fine-tune).
            if loss is None:
                loss, loss_weights = previous["loss"], previous["loss_weights"]
            if metrics is None and weighted_metrics is None:
                metrics, weighted_metrics = previous["metrics"], previous["weighted_metrics"]
        # Kept out of the module's attributes: a torch loss module is not one of its layers.
        vars(self)["loss"] = loss
        self._compile_config = {
            # As given (before any loss scaling wraps it): what Keras's compile_config holds.
            "optimizer": optimizer, "loss": loss, "loss_weights": loss_weights,
            "metrics": metrics, "weighted_metrics": weighted_metrics,
        }
        self._loss_container = None
        self._metrics_container = None
        self._loss_tracker = metrics_module.Mean(name="loss")
        if jit_compile is True and run_eagerly:
            warnings.warn("compile(run_eagerly=True) runs every step eagerly, so jit_compile=True "
                          "is turned off. Pass one of the two.", stacklevel=2)
            jit_compile = False
        self.run_eagerly = bool(run_eagerly)
        self.jit_compile = jit_compile
        self._compiled_steps = CompiledSteps()
        self.to(torch.device(device) if device is not None else default_device())
        self.compiled = True
        if getattr(self, "built", False):
            self._resolve_compile()

    @property
    def jit_compile(self) -> bool:
        """Whether fit/evaluate/predict run the compiled step (`compile(jit_compile=True)`).
        False until then, as Keras resolves its "auto" on torch."""
        return getattr(self, "_jit_compile", False)

    @jit_compile.setter
    def jit_compile(self, value) -> None:
        self._jit_compile = value is True

    def _output_names(self) -> list[str]:
        structure = getattr(self, "_output_structure", None)
        if isinstance(structure, dict):
            return sorted(structure)
        outputs = getattr(self, "outputs", None)
        if outputs:
            return [t.history.node.layer.name for t in outputs]
        return ["output"]

    def _resolve_compile(self) -> None:
        names = self._output_names()
        config = self._compile_config
        self._loss_container = LossContainer(
            config["loss"], config["loss_weights"], names,
            outputs_are_dict=isinstance(getattr(self, "_output_structure", None), dict))
        self._metrics_container = MetricsContainer(
            config["metrics"], config["weighted_metrics"], names, self._loss_container
        )
        self._compile_metrics = CompileMetrics(self._metrics_container, self._flatten_targets,
                                               names)

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise _NotCompiledError(
                f"You must call `compile()` before using the model ({what}), e.g. "
                "model.compile(optimizer='adam', loss='mse')."
            )

    @property
    def metrics(self) -> list:
        """Keras's list: the loss tracker, `compile_metrics` (all compiled metrics, as one
        metric whose result is a dict) when `compile` was given metrics, each output's loss
        tracker once the metrics are built (after the first batch), then the metrics the model
        and its layers hold as attributes."""
        if not self.compiled:
            return self._held_metrics()
        container = self._metrics_container
        listed = [self._loss_tracker]
        if container.specified:
            listed.append(self._compile_metrics)
        if self._multi_output() and container.entries is not None:
            listed += self._per_output_loss_trackers
        return listed + self._held_metrics()

    def _held_metrics(self) -> list:
        """As in Keras: the metrics the model holds (`self.loss_tracker = keras.metrics.Mean()`),
        then those its layers hold (a nested model's own are left to it): after the compiled
        ones, reset at each epoch and logged (where one shares a name with a compiled one, its
        value is the one logged, as in Keras)."""
        compiled = [self.__dict__.get(name) for name in _COMPILE_TRACKERS]
        own = [m for m in super()._held_metrics() if all(m is not c for c in compiled)]
        return own + [metric for layer in _descendants(self) if not isinstance(layer, Trainer)
                      for metric in layer.metrics]

    @property
    def metrics_variables(self) -> list:
        """The state variables of the metrics in `metrics`, in that order."""
        return [variable for metric in self.metrics for variable in metric.variables]

    def _flat_metrics(self) -> list:
        """Every metric object on its own: loss, per-output losses, compiled, held."""
        return [metric for _, metric in self._logged_metrics()]

    def _logged_metrics(self) -> list[tuple[str, object]]:
        """(log key, metric) of every metric, for the logs."""
        if not self.compiled:
            return []
        per_output = self._per_output_loss_trackers if self._multi_output() else []
        return ([("loss", self._loss_tracker)] + [(m.name, m) for m in per_output]
                + self._metrics_container.logged + [(m.name, m) for m in self._held_metrics()])

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def _multi_output(self) -> bool:
        return self._loss_container is not None and self._loss_container.multi_output

    # ------------------------------------------------------------------ steps

    def train_step(self, data):
        """One optimization step on `data = (x, y, sample_weight)` (or `(x,)`, `(x, y)`);
        returns the loss tensor."""
        x, y, sample_weight = _unpacked(data)
        result = None
        if "train" in self._compiled_steps:
            result = self._compiled_train_step(x, y, sample_weight)
        if result is None:
            result = self._loss_and_gradients(x, y, sample_weight)
            if self._trainable_params:
                self.optimizer.apply(self._trainable_params)
                for param in self._trainable_params:
                    param.grad = None
            if self._constraints:
                with torch.no_grad():
                    for param, constraint in self._constraints:
                        param.copy_(constraint(param))
        with torch.no_grad():
            self._update_metrics(*result)
        return result[0]

    def test_step(self, data):
        """One evaluation step on `data = (x, y, sample_weight)` (or `(x,)`, `(x, y)`); returns
        the loss tensor."""
        x, y, sample_weight = _unpacked(data)
        result = self._compiled_steps.get("test_loss", self._test_loss)(x, y, sample_weight)
        self._update_metrics(*result)
        return result[0]

    def _compiled_train_step(self, x, y, sample_weight):
        """The whole step as one compiled graph (`_functional_train_step`); returns
        `_compute_loss`'s tuple, or None if the graph cannot be compiled, after which the step
        compiles forward and loss alone (and autograd runs backward)."""
        optimizer = self.optimizer
        scalars = _step_numbers(optimizer._host_scalars(), self._trainable_params[0])
        try:
            with torch.no_grad():
                result = self._compiled_steps["train"](x, y, sample_weight, scalars)
        except Exception:
            # Some kernels' derivatives cannot be traced this way (torch.lstm's fails on fake
            # tensors). An error of the model itself is raised again by the eager step at the end.
            del self._compiled_steps["train"]
            self._compiled_steps["forward_and_loss"] = torch.compile(self._forward_and_loss)
            return None
        optimizer._count_step()
        return result

    def _loss_and_gradients(self, x, y, sample_weight):
        """Forward, loss and backward: afterwards each trainable parameter's `.grad` is set.

        Returns `_compute_loss`'s tuple: the loss, the per-output losses, and the targets, outputs
        and sample weights flattened per output.
        """
        compiled = self._compiled_steps
        forward_and_loss = compiled.get("forward_and_loss", self._forward_and_loss)
        try:
            result = forward_and_loss(x, y, sample_weight)
        except Exception:
            if forward_and_loss == self._forward_and_loss:
                raise
            # Inductor fails on some kernels (torch.lstm's mkldnn layer): run this region eagerly.
            compiled["forward_and_loss"] = self._forward_and_loss
            return self._loss_and_gradients(x, y, sample_weight)
        if self._trainable_params:
            self._backward(result[0])
        return result

    # Backward of the loss: `Tensor.backward`, or through the optimizer's loss scale (`_prepare`).
    _backward = staticmethod(torch.Tensor.backward)
    # Whether the loss adds the layers' penalties: found by fit/evaluate; until then (a loss
    # computed by hand) they are summed, which adds nothing where there are none.
    _has_penalties = True
    # The model's outputs flattened per output for the losses and metrics; with half-precision
    # outputs, cast to float32 (`_prepare`), as Keras computes losses and metrics in float32.
    _flatten_outputs = staticmethod(flatten_outputs)
    # Whether the model's class overrides `compute_loss` (found by `_prepare`).
    _user_loss = False

    def _forward_and_loss(self, x, y, sample_weight):
        y_pred = nn.Module.__call__(self._ddp or self, x)
        if self._user_loss:
            return self._overridden_loss(x, y, y_pred, sample_weight, training=True)
        return self._compute_loss(x, y, y_pred, sample_weight)

    def _overridden_loss(self, x, y, y_pred, sample_weight, training):
        """`_compute_loss`'s tuple with the loss of the user's `compute_loss` and no per-output
        losses."""
        if self._user_loss_takes_training:
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=training)
        else:
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        y_true, weights = self._flatten_targets(y, sample_weight)
        y_pred = self._flatten_outputs(y_pred, self._loss_container.output_names)
        return loss, [], y_true, y_pred, weights

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss of `y_pred` against `y` (compiled losses, loss weights, and the
        layers' penalties), as a custom `train_step` computes it in Keras. `x` and `training`
        are accepted as in Keras's signature; the loss does not depend on them."""
        self._require_compiled("compute_loss")
        self._loss_container.check_not_empty()
        return self._compute_loss(x, y, y_pred, sample_weight)[0]

    def stateless_compute_loss(self, trainable_variables, non_trainable_variables,
                               metrics_variables, x=None, y=None, y_pred=None,
                               sample_weight=None, training=True):
        """`compute_loss` with the given values of the model's variables (which the layers'
        penalties read), changing none of them, as Keras's.

        Returns:
            `(loss, (trainable_variables, non_trainable_variables, metrics_variables))`: the
            trainable values as given, and the others as the computation left them.
        """
        mapping = [*zip(self.trainable_variables, trainable_variables),
                   *zip(self.non_trainable_variables, non_trainable_variables),
                   *zip(self.metrics_variables, metrics_variables)]
        with scopes.StatelessScope(state_mapping=mapping) as scope:
            loss = self.compute_loss(x, y, y_pred, sample_weight=sample_weight, training=training)
        return loss, (trainable_variables,
                      [scope.get_current_value(v) for v in self.non_trainable_variables],
                      [scope.get_current_value(v) for v in self.metrics_variables])

    def _test_loss(self, x, y, sample_weight):
        y_pred = nn.Module.__call__(self, x)
        if self._user_loss:
            return self._overridden_loss(x, y, y_pred, sample_weight, training=False)
        return self._compute_loss(x, y, y_pred, sample_weight)

    def _functional_train_step(self, names, params, x, y, sample_weight, scalars):
        """Forward, loss, backward, the optimizer's update and the constraints as one pure
        function of the parameters, which torch.compile captures as one graph: the gradients
        come from `torch.func.grad_and_value`, the update's step numbers (`scalars`, from the
        optimizer's `_host_scalars`) are a tensor input."""
        y_true, weights = self._flatten_targets(y, sample_weight)

        scale_loss = self.optimizer.scale_loss if self._scales_loss else _unchanged

        def loss_of(values, buffers):
            # The buffers are inputs, not captured: layers may update them in place (the moving
            # statistics of BatchNormalization), which torch.func allows only for inputs.
            tensors = {**dict(zip(names, values)), **buffers}
            y_pred = torch.func.functional_call(self, tensors, (x,))
            y_pred = self._flatten_outputs(y_pred, self._loss_container.output_names)
            loss, per_output = self._loss_container(y_true, y_pred, weights)
            return scale_loss(loss), (loss, per_output, y_pred)

        grads, (_, (loss, per_output, y_pred)) = torch.func.grad_and_value(
            loss_of, has_aux=True)(params, dict(self.named_buffers()))
        self.optimizer._apply_update(params, grads, self.optimizer._slots, scalars.unbind())
        for param, constraint in self._constraints:
            param.copy_(constraint(param))
        return loss, per_output, y_true, y_pred, weights

    def predict_step(self, data):
        """The model's outputs for the inputs of `data`."""
        return nn.Module.__call__(self, data[0])

    def _compute_loss(self, x, y, y_pred, sample_weight):
        """(loss, per-output losses, targets, outputs, sample weights), the last three as one
        entry per output. Pure: the compiled steps run it."""
        y_true, weights = self._flatten_targets(y, sample_weight)
        y_pred = self._flatten_outputs(y_pred, self._loss_container.output_names)
        loss, per_output = self._loss_container(y_true, y_pred, weights)
        if self._has_penalties:
            penalties = sum(self.losses)
            loss = penalties if loss is None else loss + penalties
        return loss, per_output, y_true, y_pred, weights

    def _flatten_targets(self, y, sample_weight) -> tuple[list, list]:
        """Targets and sample weights as one entry per output."""
        names = self._loss_container.output_names
        weights = flatten_targets(sample_weight, names, "sample_weight") if (
            isinstance(sample_weight, (list, dict))
        ) else [sample_weight] * len(names)
        return flatten_targets(y, names, "target", self._loss_container.with_loss), weights

    def _update_metrics(self, loss, per_output, y_true, y_pred, sample_weight) -> None:
        if self._metrics_container.entries is None:
            self._metrics_container.build(y_true, y_pred)
        batch_size = y_pred[0].shape[0]
        _track_loss(self._loss_tracker, loss, batch_size)
        if self._multi_output():
            for tracker, value in zip(self._per_output_loss_trackers, per_output):
                _track_loss(tracker, value, batch_size)
        y_pred = [detached(p) for p in y_pred]
        self._metrics_container.update(y_true, y_pred, sample_weight)

    def reset_metrics(self) -> None:
        """Reset every metric, the loss trackers included, as `fit` does at each epoch; also
        the metrics a subclass lists in its own `metrics` property, as Keras resets them."""
        listed = self._flat_metrics()
        if type(self).metrics is not Trainer.metrics:
            listed = [*listed, *(m for m in self.metrics if m not in listed)]
        for metric in listed:
            metric.reset_state()

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """Update the compiled metrics with `y_pred` against `y`, and return every metric's
        result (`get_metrics_result`), as a custom `train_step` does in Keras. The loss trackers
        are left to the step, which updates them with its loss."""
        self._require_compiled("compute_metrics")
        y_true, weights = self._flatten_targets(y, sample_weight)
        y_pred = self._flatten_outputs(y_pred, self._loss_container.output_names)
        if self._metrics_container.entries is None:
            self._metrics_container.build(y_true, y_pred)
        with torch.no_grad():
            self._metrics_container.update(y_true, [detached(p) for p in y_pred], weights)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """Every metric's current result as a float, by name, as Keras returns it: the metrics
        of `self.metrics`, a subclass's own list included, with `compile_metrics` spread."""
        if type(self).metrics is Trainer.metrics:
            return self._epoch_logs()
        results = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, Mapping):
                results.update(result)
            else:
                results[metric.name] = result
        return {key: _to_float(value) for key, value in results.items()}

    def _logs_after(self, returned) -> Mapping:
        """The logs at the end of an epoch (or evaluation) run by a step the user wrote, as
        Keras chooses them: the metrics' results when the step returned a dict of the same
        keys, otherwise what the last step returned (a nested dict is spread when the logs
        are `pythonified`, after the validation logs joined them)."""
        results = self.get_metrics_result()
        if not isinstance(returned, Mapping) or set(returned) == set(results):
            return results
        return returned

    def _user_step(self, kind: str) -> bool:
        """Whether `kind`_step ("train", "test") is one the user wrote."""
        return getattr(type(self), f"{kind}_step") is not getattr(Trainer, f"{kind}_step")

    def _epoch_logs(self) -> dict:
        """Metric values as floats, keys sorted as Keras's callbacks see them; over the data of all
        processes in a data-parallel run."""
        logged = self._logged_metrics()
        if self._parallel is None:
            results = [m.result() for _, m in logged]
        else:
            results = self._parallel.global_results([m for _, m in logged])
        # Built in `logged` order first, so that of two metrics of one name the later one counts.
        logs = {key: _to_float(result) for (key, _), result in zip(logged, results)}
        return dict(sorted(logs.items()))

    def _ordered_values(self, logs: dict) -> list:
        """Keras's order for evaluate() lists: the values whose keys are the names of the
        listed metrics (loss, the compiled metrics' own names, per-output losses), then the
        rest by key. A compiled metric of a multi-output model is logged under a longer key,
        so it comes in the sorted rest."""
        names = []
        for metric in self.metrics:
            if isinstance(metric, CompileMetrics):
                names += [m.name for m in self._metrics_container.metrics]
            else:
                names.append(metric.name)
        first = [logs[name] for name in names if name in logs]
        return first + [logs[key] for key in sorted(logs) if key not in names]

    # ------------------------------------------------------------------ preparation

    def _build_on_first_batch(self, x, batch_size) -> None:
        """Build a deferred model on the call's first batch (so its input shape has that
        batch's size, as in Keras)."""
        if not getattr(self, "built", False):
            sample = next(iter(data_adapter_for(x, batch_size=batch_size or 32)))[0]
            try:
                with torch.no_grad():
                    self(sample)
            except ValueError:
                raise
            except Exception as error:
                # A ValueError is about the data; anything else (no `call`, say) means the model
                # cannot build itself, as Keras words it.
                raise RuntimeError(
                    "Unable to automatically build the model. Please build it yourself before "
                    "calling fit/evaluate/predict. A model is 'built' when its variables have been "
                    "created and its `self.built` attribute is True. Usually, calling the model "
                    f"on a batch of data is the right way to build it.\nException encountered:\n"
                    f"'{error}'") from error

    def _prepare(self, x, training: bool = True, batch_size=None) -> None:
        """Build (deferred models) and resolve everything the step needs, once per call.

        The optimizer is built (its slots made) only for training, as in Keras, where `summary()`
        counts its variables once it is built.
        """
        self._build_on_first_batch(x, batch_size)
        if self._loss_container is None:
            self._resolve_compile()
        if self._loss_container.weights_error:
            raise ValueError(self._loss_container.weights_error)
        trackers = getattr(self, "_per_output_loss_trackers", None) or []
        if self._multi_output() and [t.name for t in trackers] != self._loss_container.names:
            self._per_output_loss_trackers = [
                metrics_module.Mean(name=n) for n in self._loss_container.names
            ]
        self._trainable_params = [p for p in self.parameters() if p.requires_grad]
        if training:
            self.optimizer.build(self._trainable_params)
        # Mixed precision, decided once: backward through the optimizer's loss scale (a
        # LossScaleOptimizer's, or `loss_scale_factor`), losses and metrics in float32.
        optimizer = self.optimizer
        self._scales_loss = optimizer is not None and (
            optimizer.loss_scale_factor is not None
            or isinstance(optimizer, optimizers_module.LossScaleOptimizer))
        self._backward = (
            functools.partial(_scaled_backward, optimizer) if self._scales_loss
            else torch.Tensor.backward)
        self._flatten_outputs = _flatten_outputs_in_float32 if any(
            getattr(m, "_compute_dtype", None) in _HALF for m in self.modules()
        ) else flatten_outputs
        layers = [m for m in self.modules() if hasattr(m, "_loss_hooks")]
        # A layer that has called `add_loss` (when the model was built, at the latest) has its
        # loss hooks: its penalties are added to the loss, as Keras adds them.
        self._has_penalties = any(
            layer.activity_regularizer or layer._loss_hooks is not None for layer in layers
        ) or any(getattr(w, "regularizer", None) is not None for w in self.weights)
        # A `compute_loss` the user overrides gives the steps' loss, as in Keras, which passes
        # `training` only to one whose signature takes it.
        self._user_loss = type(self).compute_loss is not Trainer.compute_loss
        self._user_loss_takes_training = self._user_loss and (
            "training" in inspect.signature(self.compute_loss).parameters)
        if not (self._has_penalties or self._user_loss
                or self._user_step("train" if training else "test")):
            # Keras trains a model compiled without a loss on the losses its layers add alone.
            self._loss_container.check_not_empty()
        self._constraints = [(w, w.constraint) for w in self.trainable_weights
                             if getattr(w, "constraint", None) is not None]

    def _device(self) -> torch.device:
        param = next(self.parameters(), None)
        return param.device if param is not None else torch.device("cpu")

    def _check_data(self, x, y) -> None:
        """Catch data that cannot fit the model before the first step, naming the input."""
        inputs = getattr(self, "inputs", None)
        if not inputs or not getattr(self, "built", False) or not is_in_memory(x):
            return
        given = self._flatten_inputs(x) if hasattr(self, "_flatten_inputs") else [x]
        for tensor, value in zip(inputs, given):
            received = (None,) + tuple(value.shape[1:])
            expected = tensor.shape
            fits = len(received) == len(expected) and all(
                e is None or e == r for e, r in zip(expected[1:], received[1:])
            )
            if not fits:
                name = tensor.history.node.layer.name
                raise ValueError(
                    f"Input '{name}' of model '{self.name}' expects data of shape "
                    f"{format_shape(expected)}, but x has shape {format_shape(received)} "
                    f"({value.shape[0]} samples). Check that the data matches the model's input "
                    "layer, e.g. the number of features."
                )

    def _adapter(self, x, y, sample_weight, batch_size, shuffle, steps, class_weight=None):
        device = self._device()
        if class_weight is not None:
            if not is_in_memory(y) or isinstance(y, (list, dict)):
                raise ValueError("class_weight needs a single in-memory target array y.")
            if sample_weight is not None:
                # As Keras: one or the other (multiply them into one sample_weight instead).
                raise ValueError(
                    "class_weight and sample_weight cannot be given together. Fold the class "
                    "weights into sample_weight (multiply each sample's weight by its class's).")
            sample_weight = class_weights_to_sample_weights(to_tensors(y), class_weight)
        if is_in_memory(x):
            x = to_tensors(x, device)
            if getattr(self, "built", False) and hasattr(self, "_conform_inputs"):
                # A functional model takes its inputs' dtypes and fixes a missing or extra axis
                # of size 1, as in Keras; data that does not fit fails here, naming the input.
                x = self._conform_inputs(x)
            else:
                self._check_data(x, y)
        return data_adapter_for(x, y, sample_weight, batch_size, shuffle, steps, device)

    # ------------------------------------------------------------------ fit

    @loop
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train the model; returns a `History` whose `.history` maps metric names to lists.

        Args match Keras's `Model.fit`: `x`/`y` as arrays, tensors, lists, dicts, DataFrames, or
        `x` as a `Dataset`/`DataLoader`/generator yielding `(x, y[, sample_weight])`.
        """
        self._require_compiled("fit")
        if config.max_epochs() and config.max_epochs() < epochs:
            warnings.warn(f"Limiting epochs to {config.max_epochs()}", stacklevel=2)
            epochs = config.max_epochs()
        steps_per_epoch, validation_steps = _capped(steps_per_epoch), _capped(validation_steps)
        self._parallel = start_data_parallel(self)
        # 1. Split off validation data (the tail, before shuffling) and build adapters.
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = split_validation(
                x, y, sample_weight, validation_split
            )
        self._prepare(x, batch_size=batch_size)
        train_data = self._adapter(x, y, sample_weight, batch_size, shuffle, steps_per_epoch,
                                   class_weight)
        valid_data = None
        if validation_data is not None:
            valid_data = self._validation_adapter(
                validation_data, validation_batch_size or batch_size, validation_steps
            )
        if self._parallel is not None:
            train_data = self._parallel.shard(train_data, training=True)
            if valid_data is not None:
                valid_data = self._parallel.shard(valid_data, training=False)
            self._parallel.wrap_for_training()
        # 2. Callbacks, progress bar and History.
        verbose = resolve_verbose(verbose)
        callback_list = callbacks_module.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self, verbose=verbose,
            epochs=epochs, steps=train_data.num_batches,
        )
        step = self._step_function("train", train_data)
        user_step = self._user_step("train")
        # A process that stops alone would leave the others waiting in the next all-reduce:
        # the processes vote after each batch where a callback may stop them (such a callback
        # reads the batch's logs, so the vote adds no wait of its own), and after each epoch.
        votes_per_batch = self._parallel is not None and callback_list.may_stop_mid_epoch
        self.stop_training = False
        callback_list.on_train_begin()
        # BackupAndRestore resumes after the last epoch it backed up.
        resume = callback_list.initial_epoch_override
        initial_epoch = initial_epoch if resume is None else max(initial_epoch, resume)
        logs = {}
        # 3. Epochs: train, then validate when due.
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            self.train(True)
            batch_logs = LazyLogs(self._logged_metrics())
            returned = None
            for index, batch in enumerate(train_data):
                callback_list.on_train_batch_begin(index)
                if user_step:
                    returned = step(batch)
                    batch_logs = StepLogs(returned)
                else:
                    step(batch)
                    batch_logs = LazyLogs(self._logged_metrics()) if index == 0 else (
                        batch_logs.for_next_batch())
                callback_list.on_train_batch_end(index, batch_logs)
                if votes_per_batch:
                    self.stop_training = self._parallel.anyone(self.stop_training)
                if self.stop_training:
                    break
            self.train(False)
            logs = self._logs_after(returned) if user_step else self._epoch_logs()
            if valid_data is not None and _validation_due(epoch, validation_freq):
                val_logs = self._run_evaluation(valid_data, callback_list)
                logs = {**logs, **{f"val_{k}": v for k, v in val_logs.items()}}
            # Keras's callbacks see all keys sorted, the validation ones included.
            logs = pythonified(logs)
            callback_list.on_epoch_end(epoch, logs)
            if self._parallel is not None:
                self.stop_training = self._parallel.anyone(self.stop_training)
            if self.stop_training:
                break
        if epochs > 0:
            self.optimizer.finalize_variable_values(self.trainable_weights)
        callback_list.on_train_end(logs)
        if self._parallel is not None:
            self._parallel.close()
        return self.history

    def _validation_adapter(self, validation_data, batch_size, steps):
        if isinstance(validation_data, tuple) and len(validation_data) in (2, 3):
            vx, vy, vsw = (tuple(validation_data) + (None,))[:3]
            return self._adapter(vx, vy, vsw, batch_size, False, steps)
        if is_in_memory(validation_data):
            raise ValueError(
                "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight), "
                "or a DataLoader/generator yielding such tuples."
            )
        return data_adapter_for(validation_data, batch_size=batch_size, steps=steps,
                                device=self._device())

    def _step_function(self, kind: str, data=None):
        """The per-batch step of `kind` ("train", "test" or "predict") for the batches of `data`
        (an adapter; None for arrays), compiled under `jit_compile=True`.

        The compiled regions are pure functions, compiled once per input signature, as Keras
        does. Training compiles forward, loss, backward, the optimizer's update and the
        constraints into one graph (a `CompiledStep`): the gradients are taken with
        `torch.func.grad_and_value`, so no autograd graph is recorded at run time, and the
        optimizer's step numbers (learning rate, bias corrections) enter as a tensor, computed
        on the host each step. Evaluation compiles forward and loss (a `CompiledStep`),
        prediction the forward pass alone, handed to Inductor directly (`CompiledForward`). The
        metric updates stay eager (a few in-place ops). Under DDP (whose gradient hooks need
        autograd) or with weight or activity penalties (which layers record as they run),
        forward and loss are compiled by plain torch.compile instead, which also compiles their
        backward, and the update runs eagerly. A step overridden by the user is compiled
        whole, as written, by torch.compile.
        """
        steps = {"train": self.train_step, "test": self.test_step, "predict": self.predict_step}
        if self._user_step(kind):
            # A step the user wrote gets the batch as Keras gives it (see `_packed`).
            step = steps[kind]
            if self._jit_compile:
                step = self._compiled_steps.setdefault(f"{kind}_step", torch.compile(step))
            from_stream = getattr(data, "from_stream", False)
            return lambda batch: step(_packed(batch, from_stream))
        if not self._jit_compile:
            return steps[kind]
        compiled = self._compiled_steps
        # The default steps find their compiled regions in `_compiled_steps`; "forward_and_loss"
        # also stays once the whole training step has failed to compile.
        if kind == "train":
            if (self._ddp is not None or self._has_penalties or self._user_loss
                    or not self._trainable_params):
                compiled.pop("train", None)
                compiled.setdefault("forward_and_loss", torch.compile(self._forward_and_loss))
            elif "forward_and_loss" not in compiled:
                # The graph updates the parameters the optimizer's slots were made for.
                self.optimizer.check_params(self._trainable_params)
                if "train" not in compiled and rematerializes(self):
                    # torch.func's gradients (the whole-step graph) do not take checkpoints.
                    compiled["forward_and_loss"] = torch.compile(self._forward_and_loss)
                elif "train" not in compiled:
                    names = [n for n, p in self.named_parameters() if p.requires_grad]
                    compiled["train"] = CompiledStep(
                        functools.partial(self._functional_train_step, names),
                        self._trainable_params,
                    )
        elif kind == "test" and "test_loss" not in compiled:
            compiled["test_loss"] = (
                torch.compile(self._test_loss) if self._has_penalties or self._user_loss
                else CompiledStep(self._test_loss)
            )
        elif kind == "predict":
            compiled.setdefault("predict", CompiledForward(self))
            return self._compiled_predict_step
        return steps[kind]

    def _compiled_predict_step(self, data):
        """`predict_step` under `jit_compile=True`."""
        return self._compiled_steps["predict"](data[0])

    def _apply(self, fn, recurse=True):
        # `.to()`, `.double()`, `.cuda()`: the compiled steps read the weights' memory as the
        # dtypes and devices they were traced with, so a change of either drops them.
        compiled = getattr(self, "_compiled_steps", None)
        if not compiled:
            return super()._apply(fn, recurse)
        before = _dtypes_and_devices(self)
        result = super()._apply(fn, recurse)
        if _dtypes_and_devices(self) != before:
            compiled.clear()
        return result

    # ------------------------------------------------------------------ evaluate

    @loop
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """The loss and metrics on the given data: a scalar, a list (Keras's order) or a dict."""
        self._require_compiled("evaluate")
        self._parallel = start_data_parallel(self)
        self._prepare(x, training=False, batch_size=batch_size)
        data, callback_list = self._inference_data(x, y, sample_weight, batch_size,
                                                   _capped(steps), verbose,
                                                   callbacks)
        logs = self._run_evaluation(data, callback_list)
        if self._parallel is not None:
            self._parallel.close()
        return self._result(logs, return_dict)

    def _inference_data(self, x, y, sample_weight, batch_size, steps, verbose, callbacks):
        """The batches (this process's shard when data-parallel) and the callbacks of evaluate
        and predict."""
        data = self._adapter(x, y, sample_weight, batch_size, False, steps)
        if self._parallel is not None:
            data = self._parallel.shard(data, training=False)
        verbose = resolve_verbose(verbose)
        callback_list = callbacks_module.CallbackList(
            callbacks, add_history=False, add_progbar=verbose != 0, model=self, verbose=verbose,
            epochs=1, steps=data.num_batches,
        )
        return data, callback_list

    def _inference_mode(self) -> bool:
        """Every layer in inference mode, as Keras evaluates and predicts; returns whether the
        model was in training mode, to go back to it after.

        Setting the flag walks every module, which costs more than a small model's one-batch
        forward pass, so a model already in inference mode (as `fit` leaves it) is left as is.
        """
        was_training = self.training
        if any(module.training for module in self.modules()):
            self.train(False)
        return was_training

    def _run_evaluation(self, data, callback_list) -> dict:
        if hasattr(data, "reset"):
            data.reset()  # with `steps`, each evaluation starts from the first batch, as Keras's
        self.reset_metrics()
        step = self._step_function("test", data)
        user_step = self._user_step("test")
        was_training = self._inference_mode()
        if callback_list is not None:
            callback_list.on_test_begin()
        batch_logs = LazyLogs(self._logged_metrics())
        returned = None
        with torch.no_grad():
            for index, batch in enumerate(data):
                if callback_list is not None:
                    callback_list.on_test_batch_begin(index)
                if user_step:
                    returned = step(batch)
                    batch_logs = StepLogs(returned)
                else:
                    step(batch)
                    batch_logs = LazyLogs(self._logged_metrics()) if index == 0 else (
                        batch_logs.for_next_batch())
                if callback_list is not None:
                    callback_list.on_test_batch_end(index, batch_logs)
        if was_training:
            self.train(True)
        logs = pythonified(self._logs_after(returned)) if user_step else self._epoch_logs()
        if callback_list is not None:
            # Keras's callback list flattens the logs once more, in a copy: the callbacks see
            # its keys sorted again (a user's step spreading `compile_metrics` put them out of
            # order), while evaluate returns the logs as they were.
            callback_list.on_test_end(pythonified(logs))
        return logs

    # ------------------------------------------------------------------ predict

    @loop
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs as NumPy arrays (a list or dict for several outputs), batched."""
        self._build_on_first_batch(x, batch_size)
        self._parallel = start_data_parallel(self)
        data, callback_list = self._inference_data(x, None, None, batch_size, _capped(steps),
                                                   verbose,
                                                   callbacks)
        was_training = self._inference_mode()
        callback_list.on_predict_begin()
        outputs = []
        predict_step = self._step_function("predict", data) if self.compiled else self.predict_step
        # Keras's callbacks get each batch's outputs; read back to the host only if one asks.
        reads_outputs = callback_list.reads_batch_logs("on_predict_batch_end")
        eager = not (self.compiled and self._jit_compile) and not self._user_step("predict")
        with torch.inference_mode(), plain_weights(self) if eager else contextlib.nullcontext():
            for index, batch in enumerate(data):
                callback_list.on_predict_batch_begin(index)
                outputs.append(predict_step(batch))
                callback_list.on_predict_batch_end(
                    index, _predict_batch_logs(outputs[-1]) if reads_outputs else {})
        if was_training:
            self.train(True)
        callback_list.on_predict_end()
        if self._parallel is not None:
            outputs = self._parallel.gather_predictions(outputs, data)
            self._parallel.close()
        return _concatenate(outputs)

    # ------------------------------------------------------------------ single batches

    @loop
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns the loss (and metrics) like `evaluate`."""
        self._require_compiled("train_on_batch")
        self._prepare(x, batch_size=_num_samples(x))
        batch = next(iter(self._adapter(x, y, sample_weight, _num_samples(x), False, None,
                                        class_weight)))
        self.reset_metrics()
        self.train(True)
        returned = self._step_function("train")(batch)
        self.train(False)
        logs = (pythonified(self._logs_after(returned)) if self._user_step("train")
                else self._epoch_logs())
        return self._result(logs, return_dict)

    @loop
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) on one batch, without training."""
        self._require_compiled("test_on_batch")
        self._prepare(x, training=False, batch_size=_num_samples(x))
        batch = next(iter(self._adapter(x, y, sample_weight, _num_samples(x), False, None)))
        self.reset_metrics()
        with torch.no_grad():
            returned = self._step_function("test")(batch)
        logs = (pythonified(self._logs_after(returned)) if self._user_step("test")
                else self._epoch_logs())
        return self._result(logs, return_dict)

    @loop
    def predict_on_batch(self, x):
        """The model's outputs on one batch, as NumPy arrays."""
        was_training = self._inference_mode()
        with torch.inference_mode():
            tensors = to_tensors(x, self._device())
            outputs = self(tensors) if not getattr(self, "built", False) else self.predict_step(
                (tensors, None, None)
            )
        if was_training:
            self.train(True)
        return _concatenate([outputs])

    def _result(self, logs: dict, return_dict: bool):
        if return_dict:
            return logs
        values = self._ordered_values(logs)
        return values[0] if len(values) == 1 else values


_HALF = (torch.float16, torch.bfloat16)
# The metrics `compile` sets on the model, listed by `metrics` on their own terms.
_COMPILE_TRACKERS = ("_loss_tracker", "_compile_metrics")


def _descendants(layer) -> list:
    """Every layer inside `layer`, each once, in Keras's order: depth-first, where the layers
    inside a sublayer come before its later siblings, in reverse (Keras pushes them onto the
    front of its queue one by one)."""
    found, seen, pending = [], set(), collections.deque(layer._sublayers())
    while pending:
        sub = pending.popleft()
        if id(sub) not in seen:
            seen.add(id(sub))
            found.append(sub)
            pending.extendleft(sub._sublayers())
    return found


def _unchanged(value):
    return value


def _scaled_backward(optimizer, loss: torch.Tensor) -> None:
    optimizer.scale_loss(loss).backward()


def _flatten_outputs_in_float32(y_pred, names: list) -> list:
    return [p.float() if p.dtype in _HALF else p for p in flatten_outputs(y_pred, names)]


def _track_loss(tracker, value: torch.Tensor, batch_size: int) -> None:
    """`tracker.update_state(value, sample_weight=batch_size)` for a scalar loss, in two in-place
    operations: the general weighted update costs several small tensor ops per step."""
    tracker._on_device_of(value)
    tracker.total.add_(value.detach(), alpha=batch_size)
    tracker.count.add_(batch_size)


def _num_samples(x) -> int:
    leaves = nest.flatten(x)
    return int(len(leaves[0])) if leaves else 1


def _validation_due(epoch: int, freq) -> bool:
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def _predict_batch_logs(outputs) -> dict:
    """The logs Keras's callbacks get at the end of a prediction batch: a single output as a
    NumPy array under "outputs", a list of outputs as they are, a dict's entries as NumPy
    arrays under their own keys."""
    if isinstance(outputs, dict):
        return {key: to_numpy(outputs[key]) for key in sorted(outputs)}
    if isinstance(outputs, torch.Tensor):
        return {"outputs": to_numpy(outputs)}
    return {"outputs": outputs}


def _concatenate(batches: list):
    """Per-batch outputs (tensors, lists or dicts of tensors) → NumPy arrays, joined once."""
    if not batches:
        raise ValueError("predict() received no data: the input has no samples.")
    first = batches[0]
    if isinstance(first, dict):
        return {k: _concatenate([b[k] for b in batches]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_concatenate([b[i] for b in batches]) for i in range(len(first)))
    return to_numpy(torch.cat(batches))


def _dtypes_and_devices(module) -> list:
    return [(t.dtype, t.device) for t in (*module.parameters(), *module.buffers())]


def _unpacked(data: tuple) -> tuple:
    """`(x, y, sample_weight)` from a batch of one to three parts."""
    return data if len(data) == 3 else (*data, None, None)[:3]


def _packed(batch: tuple, from_stream: bool):
    """`(x, y, sample_weight)` as Keras hands it to a step the user wrote: without its trailing
    Nones; from a stream (DataLoader, generator) as a list, as torch's batches come; from arrays
    as a tuple, or `x` alone when it is all there is (a VAE's `train_step(self, data)` takes
    `data` as its images), unless `x` is itself a list or tuple."""
    x, y, sample_weight = batch
    parts = batch if sample_weight is not None else (x,) if y is None else (x, y)
    if from_stream:
        return list(parts)
    return x if len(parts) == 1 and not isinstance(x, (list, tuple)) else parts


def _capped(steps: int | None) -> int | None:
    """`steps` of an epoch under `keras.config.set_max_steps_per_epoch`'s cap, as Keras's."""
    cap = config.max_steps_per_epoch()
    if cap and (not steps or cap < steps):
        warnings.warn(f"Limiting steps_per_epoch to {cap}", stacklevel=3)
        return cap
    return steps
