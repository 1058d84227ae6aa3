"""`TensorBoard`: writes metrics, learning rate and weight histograms for TensorBoard."""

from __future__ import annotations

import os
import time

from .callback import Callback, learning_rates_of


def _summary_writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ImportError("The TensorBoard callback writes through torch.utils.tensorboard, which "
                          "needs the `tensorboard` package. Install it with "
                          "`pip install tensorboard`.") from error
    return SummaryWriter


class TensorBoard(Callback):
    """Logs training for TensorBoard (`tensorboard --logdir logs`).

    Epoch results go to `<log_dir>/train` as `epoch_<name>` (with `epoch_learning_rate`) and
    validation results to `<log_dir>/validation`; results of `evaluate()` inside `fit()` are
    logged against the optimizer's iterations as `evaluation_<name>_vs_iterations`. Needs the
    `tensorboard` package once training starts.

    Args:
        log_dir: the directory of the event files.
        histogram_freq: log a histogram of every weight every this many epochs (0: never).
        write_graph: log the model's config (JSON) as text, when the model has `to_json()`.
        write_images: with `histogram_freq`, also log 1-D and 2-D weights as images.
        write_steps_per_second: log the training speed in steps per second.
        update_freq: `"epoch"`, or `"batch"` or an integer N to also log the batch metrics
            every N batches (reading them from the device only then).
        profile_batch: must be 0: profiling is not available with PyTorch here.
        embeddings_freq: must be 0: the embedding projector is not available.
        embeddings_metadata: must be None.

    >>> callback = TensorBoard(log_dir="./logs")  # doctest: +SKIP
    """

    rank_zero_only = True

    def __init__(self, log_dir="logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False,
                 update_freq="epoch", profile_batch=0, embeddings_freq: int = 0,
                 embeddings_metadata=None):
        super().__init__()
        if profile_batch:
            raise ValueError("Profiling is not yet available with the torch backend. "
                             f"Received: profile_batch={profile_batch!r} (must be 0)")
        if embeddings_freq or embeddings_metadata is not None:
            raise ValueError("The embedding projector is not available with the torch backend. "
                             f"Received: embeddings_freq={embeddings_freq!r}, "
                             f"embeddings_metadata={embeddings_metadata!r} (must be 0 and None)")
        if not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"Expected a non-negative integer for histogram_freq. "
                             f"Received: histogram_freq={histogram_freq!r}")
        update_freq = 1 if update_freq == "batch" else update_freq
        if update_freq != "epoch" and (not isinstance(update_freq, int) or update_freq <= 0):
            raise ValueError("Expected update_freq to be 'epoch', 'batch' or a positive integer. "
                             f"Received: update_freq={update_freq!r}")
        self._writer_class = None
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = update_freq
        self._writers = {}
        self._global_train_batch = 0
        self._epoch_start = None
        self._epoch_start_iterations = 0
        self._batch_start = 0.0
        if update_freq != "epoch":
            # Only then is there work per batch; otherwise the hooks stay the no-op defaults.
            self.on_train_batch_begin = self._count_batch
            self.on_train_batch_end = self._log_batch

    def set_model(self, model) -> None:
        # Keras makes the callback without TensorBoard installed and needs it once training
        # starts: so the package is looked for here, before anything is trained.
        super().set_model(model)
        self._writer_class = _summary_writer_class()

    def _writer(self, name: str):
        if name not in self._writers:  # created on first use, so no empty event files
            self._writers[name] = self._writer_class(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        if self.write_graph and hasattr(self.model, "to_json"):
            self._writer("train").add_text("keras_model", self.model.to_json(), 0)

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.monotonic()
        self._epoch_start_iterations = int(self.model.optimizer.iterations)

    def _count_batch(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start = time.monotonic()

    def _log_batch(self, batch, logs=None):
        step = self._global_train_batch
        if step % self.update_freq:
            return
        writer = self._writer("train")
        if self.write_steps_per_second:
            elapsed = time.monotonic() - self._batch_start
            writer.add_scalar("batch_steps_per_second", 1.0 / max(elapsed, 1e-9), step)
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", float(value), step)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if not logs or optimizer is None:
            return
        writer = self._writer("validation")
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value),
                              int(optimizer.iterations))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        optimizer = self.model.optimizer
        for name, value in learning_rates_of(getattr(optimizer, "inner_optimizer",
                                                     optimizer)).items():
            train.setdefault(name, value)
        if self.write_steps_per_second and self._epoch_start is not None:
            steps = int(self.model.optimizer.iterations) - self._epoch_start_iterations
            train["steps_per_second"] = steps / max(time.monotonic() - self._epoch_start, 1e-9)
        for name, value in train.items():
            self._writer("train").add_scalar(f"epoch_{name}", float(value), epoch)
        for name, value in logs.items():
            if name.startswith("val_"):
                self._writer("validation").add_scalar(f"epoch_{name[4:]}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in getattr(self.model, "layers", [self.model]):
            for name, weight in layer.named_parameters():
                tag = f"{layer.name}/{name}"
                values = weight.detach().cpu()
                writer.add_histogram(f"{tag}/histogram", values, epoch)
                if self.write_images:
                    self._log_weight_image(writer, f"{tag}/image", values, epoch)

    @staticmethod
    def _log_weight_image(writer, tag, values, epoch):
        image = values.squeeze()
        if image.ndim == 1:
            image = image[None, :]
        if image.ndim != 2:
            return  # kernels of more than 2 dimensions have no single image
        if image.shape[0] > image.shape[1]:
            image = image.T
        low, high = image.min(), image.max()
        image = (image - low) / (high - low) if high > low else image * 0
        writer.add_image(tag, image, epoch, dataformats="HW")
