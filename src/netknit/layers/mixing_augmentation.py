"""Augmentations that combine: images with noise or with each other (RandomErasing, MixUp,
CutMix), and augmentation layers with each other (RandAugment, AugMix, Pipeline).

MixUp and CutMix mix the labels as they mix the images when given a dict
`{"images": ..., "labels": ...}` (labels one-hot or soft, batch first). Bounding boxes
(`"bounding_boxes"`, see `boxes.py`): MixUp gives each image its partner's boxes too,
RandAugment moves them through the operations it applies, RandomErasing and AugMix (as Keras)
pass them, and CutMix refuses them, as Keras does. RandAugment and AugMix
hold their operations as sublayers created as Keras creates them (so automatic layer names
follow Keras's), and choose operations on the host, once per batch, so that only the chosen
ones run.
"""

from __future__ import annotations

import torch
from torch import nn

from .augmentation import (
    _INTERPOLATIONS,
    RandomRotation,
    RandomShear,
    RandomTranslation,
    _Augmentation,
    _check_choice,
    _check_value_range,
    _factor_range,
    _is_number,
    _TrainsWhenCalled,
)
from .color_augmentation import (
    AutoContrast,
    Equalization,
    RandomBrightness,
    RandomColorDegeneration,
    RandomContrast,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)
from .layer import Layer
from .rnn import _deserialize_cell, _serialize_cell
from .wrapper import build_shape_of


def _mix_labels(labels, order: torch.Tensor, weight: torch.Tensor):
    """`weight * labels + (1 - weight) * labels[order]`, one weight per sample."""
    if labels is None:
        return None
    weight = weight.reshape((-1,) + (1,) * (labels.dim() - 1)).to(
        labels.dtype if labels.is_floating_point() else weight.dtype)
    return weight * labels + (1 - weight) * labels[order]


class _BoxAugmentation(_Augmentation):
    """An augmentation that changes a random box of each image."""

    _casts_in_inference = True

    def _random_boxes(self, width_fraction: torch.Tensor, height_fraction: torch.Tensor,
                      like: torch.Tensor):
        """A random box per image of `like`, of the given fractions `(batch,)` of the width and
        height, placed uniformly inside the image: `(batch, 1, height, width)` masks of the
        pixels whose indices fall in it, and the boxes' areas as fractions of the image."""
        batch, _, height, width = like.shape
        spans = []
        for fraction, size in ((width_fraction, width), (height_fraction, height)):
            length = fraction * size
            start = self._uniform(batch, 0.0, 1.0, like) * (size - length)
            spans.append((start, start + length))
        (x0, x1), (y0, y1) = spans
        xs = torch.arange(width, device=like.device, dtype=x0.dtype)
        ys = torch.arange(height, device=like.device, dtype=y0.dtype)
        columns = (xs >= x0[:, None]) & (xs < x1[:, None])
        rows = (ys >= y0[:, None]) & (ys < y1[:, None])
        inside = rows[:, None, :, None] & columns[:, None, None, :]
        return inside, (x1 - x0) * (y1 - y0) / (width * height)


class RandomErasing(_BoxAugmentation):
    """Erases a random rectangle of each image, with a random probability, in training.

    The rectangle's width and height are the square roots of fractions drawn from `scale` (of the
    image's width and height); it is filled with `fill_value`, or with Gaussian noise of standard
    deviation `high` when `fill_value` is None, clipped to `value_range`.

    Args:
        factor: the probability of erasing from each image is drawn from `(0, factor)` for a
            number in [0, 1] (default 1.0), or from a pair.
        scale: the range of the squared side fractions (default `(0.02, 0.33)`).
        fill_value: None (noise, default), a number, or one number per channel.
        value_range: the range of the pixel values, `(0, 255)` by default.
        seed: makes the draws repeatable.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _config_keys = ("factor", "scale", "fill_value", "value_range", "seed")

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_range("factor", factor, bounds=(0, 1))
        self.scale = _factor_range("scale", scale, bounds=(0, 1))
        values = fill_value if isinstance(fill_value, (tuple, list)) else [fill_value]
        if fill_value is not None and not (values and all(_is_number(v) for v in values)):
            raise ValueError("Expected fill_value to be None (noise), a number, or a list of one "
                             f"number per channel. Received: fill_value={fill_value!r}")
        self.fill_value = list(fill_value) if isinstance(fill_value, tuple) else fill_value
        self.value_range = _check_value_range(value_range)

    def _augment(self, images):
        batch, channels = images.shape[:2]
        sides = self._uniform((batch, 2), *self.scale, images).sqrt()
        inside, _ = self._random_boxes(sides[:, 0], sides[:, 1], images)
        applies = self._chance(batch, self.factor, images)
        if self.fill_value is None:
            fill = self._normal(images.shape, images).to(images.dtype) * self.value_range[1]
        else:
            fill = torch.tensor(self.fill_value, dtype=images.dtype, device=images.device)
            if fill.dim():
                if fill.numel() != channels:
                    raise ValueError(f"RandomErasing has {fill.numel()} fill values for images "
                                     f"of {channels} channels.")
                fill = fill[:, None, None]
        fill = fill.clamp(*self.value_range)
        return torch.where(inside & applies[:, None, None, None], fill, images)


class MixUp(_Augmentation):
    """Mixes each image with another of the batch, in training: `w * x + (1 - w) * x'`, with `w`
    drawn per image from Beta(alpha, alpha) and the partners a random permutation of the batch.

    Given `{"images": ..., "labels": ...}`, the labels are mixed with the same weights.

    Args:
        alpha: the Beta distribution's parameter, positive (default 0.2: most weights near 0
            or 1).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: makes the draws repeatable.

    >>> out = MixUp()({"images": torch.rand(4, 8, 8, 3), "labels": torch.eye(4)})
    >>> out["labels"].sum(-1)
    tensor([1., 1., 1., 1.])
    """

    _config_keys = ("alpha", "seed")

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not _is_number(alpha) or alpha <= 0:
            raise ValueError(f"Expected alpha to be a positive number. Received: alpha={alpha!r}")
        self.alpha = alpha

    def _augment(self, images):
        return self._augment_labelled(images, None)[0]

    def _augment_labelled(self, images, labels):
        return self._mix(images, labels)[:2]

    def _augment_boxed(self, images, labels, boxes):
        mixed, labels, order = self._mix(images, labels)
        # As Keras: each image keeps its boxes and gains its partner's, after them.
        boxes = {key: torch.cat([value, value[order]], 1) for key, value in boxes.items()}
        return mixed, labels, boxes

    def _mix(self, images, labels):
        """The mixed images and labels, and the partner of each image."""
        batch = images.shape[0]
        order = self._permutation(batch, images)
        weight = self._dirichlet((batch, 2), self.alpha, images)[:, 0].to(images.dtype)
        mixed = weight[:, None, None, None] * images + (1 - weight[:, None, None, None]) * (
            images[order])
        return mixed, _mix_labels(labels, order, weight), order


class CutMix(_BoxAugmentation):
    """Pastes a random box of another image of the batch into each image, in training.

    Per batch, `alpha` is drawn from `factor`; per image, `w` from Beta(alpha, alpha), and a box
    of sides `sqrt(1 - w)` times the image's is placed at random and filled from a partner (a
    random permutation of the batch). Given `{"images": ..., "labels": ...}`, the labels are
    mixed by the box's area.

    Args:
        factor: the range of `alpha`: a number in [0, 1] for `(0, factor)` (default 1.0), or a
            pair.
        seed: makes the draws repeatable.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _config_keys = ("factor", "seed")

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_range("factor", factor, bounds=(0, 1))

    def _augment(self, images):
        return self._augment_labelled(images, None)[0]

    def _augment_labelled(self, images, labels):
        batch = images.shape[0]
        alpha = self._host_uniform(*self.factor) + 1e-6  # one per batch, a parameter
        side = torch.sqrt(1 - self._dirichlet((batch, 2), alpha, images)[:, 0])
        inside, area = self._random_boxes(side, side, images)
        order = self._permutation(batch, images)
        mixed = torch.where(inside, images[order], images)
        return mixed, _mix_labels(labels, order, 1 - area)

    def _augment_boxed(self, images, labels, boxes):
        raise NotImplementedError(
            "CutMix cannot carry bounding boxes (nor can Keras's): the pasted box would need "
            "its partner's boxes cut to it. Call it on images without 'bounding_boxes'.")


# ---------------------------------------------------------------------- policies


def _count(name: str, value, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"Expected {name} to be an integer of at least {minimum}. Received: "
                         f"{name}={value!r}")
    return value


def _add_operations(owner: _Augmentation, names: list[str], factor, value_range, interpolation,
                    seed, data_format) -> None:
    """Create `names`' augmentation layers, in that order, as sublayers of `owner` under those
    names, with Keras's arguments for RandAugment's and AugMix's operations (and the owner's
    bounding box format, which the geometric ones need to move boxes)."""
    boxed = {"data_format": data_format, "bounding_box_format": owner.bounding_box_format}
    seeded = {"seed": seed, **boxed}
    makers = {
        "random_shear": lambda: RandomShear(factor, factor, interpolation, **seeded),
        "random_translation": lambda: RandomTranslation(factor, factor,
                                                        interpolation=interpolation, **seeded),
        "random_rotation": lambda: RandomRotation(factor, interpolation=interpolation,
                                                  **seeded),
        "random_brightness": lambda: RandomBrightness(factor, value_range, **seeded),
        "random_color_degeneration": lambda: RandomColorDegeneration(factor, value_range,
                                                                     **seeded),
        "random_contrast": lambda: RandomContrast(factor, value_range, **seeded),
        "random_sharpness": lambda: RandomSharpness(factor, value_range, **seeded),
        "solarization": lambda: Solarization(factor, factor, value_range, **seeded),
        "random_posterization": lambda: RandomPosterization(max(1, int(8 * factor[1])),
                                                            value_range, **seeded),
        "auto_contrast": lambda: AutoContrast(value_range, **boxed),
        "equalization": lambda: Equalization(value_range, **boxed),
    }
    for name in names:
        setattr(owner, name, makers[name]())


class RandAugment(_Augmentation):
    """Applies `num_ops` operations chosen at random from eleven, in training (RandAugment,
    Cubuk et al. 2019).

    Per batch, each of the `num_ops` steps picks one of: shear, translation, rotation,
    brightness, colour degeneration, contrast, sharpness, posterization, solarization,
    auto-contrast, equalization; its own random draws then vary per image. Every operation takes
    its strength from `factor`.

    Args:
        value_range: the range of the pixel values, `(0, 255)` by default.
        num_ops: the number of operations per batch (default 2).
        factor: the strength: a number in [0, 1] for `(0, factor)` (default 0.5), or a pair.
        interpolation: `"bilinear"` (default) or `"nearest"`, for the geometric operations.
        seed: makes the draws repeatable.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _config_keys = ("value_range", "num_ops", "factor", "interpolation", "seed")
    _casts_in_inference = True

    _operations = ["random_shear", "random_translation", "random_rotation",
                   "random_brightness", "random_color_degeneration", "random_contrast",
                   "random_sharpness", "random_posterization", "solarization", "auto_contrast",
                   "equalization"]
    # Keras creates them in this order (which decides their automatic names).
    _creation_order = _operations[:7] + ["solarization", "random_posterization",
                                         "auto_contrast", "equalization"]

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear",
                 seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = _check_value_range(value_range)
        self.num_ops = _count("num_ops", num_ops, 0)
        self.factor = _factor_range("factor", factor, bounds=(0, 1))
        self.interpolation = _check_choice("interpolation", interpolation, _INTERPOLATIONS)
        _add_operations(self, self._creation_order, self.factor, self.value_range,
                        interpolation, seed, data_format)

    def _augment(self, images):
        for _ in range(self.num_ops):
            name = self._operations[self._host_randint(len(self._operations))]
            images = getattr(self, name)._augment(images)
        return images

    def _augment_boxed(self, images, labels, boxes):
        for _ in range(self.num_ops):
            name = self._operations[self._host_randint(len(self._operations))]
            images, labels, boxes = getattr(self, name)._augment_boxed(images, labels, boxes)
        return images, labels, boxes


class AugMix(_Augmentation):
    """Mixes each batch with `num_chains` randomly augmented versions of itself, in training
    (AugMix, Hendrycks et al. 2020).

    Per batch, each chain applies up to `chain_depth` operations, each chosen at random among the
    operations or none; the chains are averaged with Dirichlet(alpha) weights, and the average
    is blended with the images by a Beta(alpha, alpha) weight, then clipped to `value_range`.

    Args:
        value_range: the range of the pixel values, `(0, 255)` by default.
        num_chains: the number of chains (default 3).
        chain_depth: the number of operation slots per chain (default 3).
        factor: the operations' strength: a number in [0, 1] for `(0, factor)` (default 0.3), or
            a pair.
        alpha: the Dirichlet and Beta parameter, positive (default 1.0).
        all_ops: True (default) to add brightness, colour degeneration, contrast and sharpness
            to the geometric operations, posterization, solarization, auto-contrast and
            equalization.
        interpolation: `"bilinear"` (default) or `"nearest"`, for the geometric operations.
        seed: makes the draws repeatable.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _config_keys = ("value_range", "num_chains", "chain_depth", "factor", "alpha", "all_ops",
                    "interpolation", "seed")
    _casts_in_inference = True

    _base_operations = ["random_shear", "random_translation", "random_rotation",
                        "random_posterization", "solarization", "auto_contrast", "equalization"]
    _color_operations = ["random_brightness", "random_color_degeneration", "random_contrast",
                         "random_sharpness"]

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3,
                 alpha=1.0, all_ops=True, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = _check_value_range(value_range)
        self.num_chains = _count("num_chains", num_chains, 1)
        self.chain_depth = _count("chain_depth", chain_depth, 0)
        self.factor = _factor_range("factor", factor, bounds=(0, 1))
        if not _is_number(alpha) or alpha <= 0:
            raise ValueError(f"Expected alpha to be a positive number. Received: alpha={alpha!r}")
        self.alpha = alpha
        if not isinstance(all_ops, bool):
            raise ValueError(f"Expected all_ops to be True or False. Received: all_ops={all_ops!r}")
        self.all_ops = all_ops
        self.interpolation = _check_choice("interpolation", interpolation, _INTERPOLATIONS)
        self._operations = self._base_operations + (self._color_operations if all_ops else [])
        # Keras creates them in this order (which decides their automatic names).
        order = self._base_operations[:3] + ["solarization", "random_posterization",
                                             "auto_contrast", "equalization"]
        _add_operations(self, order + self._operations[7:], self.factor, self.value_range,
                        interpolation, seed, data_format)

    def _augment(self, images):
        chain_weights = self._dirichlet((self.num_chains,), self.alpha, images).to(images.dtype)
        keep = self._dirichlet((2,), self.alpha, images)[0].to(images.dtype)
        mixed = torch.zeros_like(images)
        for chain in range(self.num_chains):
            augmented = images
            for _ in range(self.chain_depth):
                choice = self._host_randint(len(self._operations) + 1)  # the last: nothing
                if choice < len(self._operations):
                    augmented = getattr(self, self._operations[choice])._augment(augmented)
            mixed = mixed + augmented * chain_weights[chain]
        return (keep * images + (1 - keep) * mixed).clamp(*self.value_range)


class Pipeline(_TrainsWhenCalled):
    """Applies a sequence of layers, one after the other, as one layer: typically augmentation
    layers, which it runs in training or inference as it is itself run.

    Unlike a Sequential model, a Pipeline is a layer (it holds no graph and can be called on
    anything its layers take), and, called directly, it runs in training mode unless given
    `training=False`, as augmentation layers do.

    Args:
        layers: the list of layers.
        name: the layer's name.

    >>> Pipeline([RandomFlip(), RandomRotation(0.1)])(torch.rand(2, 8, 8, 3)).shape
    torch.Size([2, 8, 8, 3])
    """

    # Keras's call (saved graphs record it) augments unless told.
    _keras_call_arguments = {"training": True, "mask": None}
    _keras_converts_inputs = False

    def __init__(self, layers, name=None, **kwargs):
        if not isinstance(layers, (list, tuple)) or not all(isinstance(lay, Layer)
                                                            for lay in layers):
            raise ValueError(f"Expected layers to be a list of layers. Received: layers={layers!r}")
        super().__init__(name=name, **kwargs)
        self._pipeline_layers = nn.ModuleList(layers)
        self._build_shapes = [None] * len(layers)  # saved with each layer, to rebuild it

    @property
    def layers(self) -> list[Layer]:
        return list(self._pipeline_layers)

    def build(self, input_shape):
        for i, layer in enumerate(self._pipeline_layers):
            self._build_shapes[i] = tuple(input_shape)
            if not layer.built:
                layer._build_once(input_shape)
            input_shape = layer.compute_output_shape(input_shape)

    def forward(self, inputs, training=None):
        training = self.training if training is None else training
        for layer in self._pipeline_layers:
            # Built with the pipeline: each is a plain module call.
            if layer._accepts_training:
                inputs = nn.Module.__call__(layer, inputs, training=training)
            else:
                inputs = nn.Module.__call__(layer, inputs)
        return inputs

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self):
        # Keras's config of a Pipeline: its layers and its name only.
        return {"layers": [_serialize_cell(layer, shape) for layer, shape
                           in zip(self._pipeline_layers, self._build_shapes)],
                "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        entries = config.pop("layers", None)
        if not isinstance(entries, (list, tuple)):
            raise ValueError("A Pipeline's config needs a list of layers under 'layers'. "
                             f"Received: layers={entries!r}")
        pipeline = cls([_deserialize_cell(entry, custom_objects) for entry in entries],
                       **config)
        pipeline._build_shapes = [build_shape_of(entry) for entry in entries]
        return pipeline
