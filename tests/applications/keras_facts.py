"""What Keras 3.15.1 gives for each application model, for tests that run without Keras.

`CASES` lists builders with keyword arguments (weights=None is added) and Keras's facts of the
model they build: its name, layer count, parameter counts (total, trainable, non-trainable),
output shape, and two digests: of the layer names in order, and of the structure (each layer's
name, class, output shape and weight shapes, in order). `describe` computes them from a model,
Keras's or netknit's; `test_keras_parity.py` checks the table against Keras when it is installed.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple


class Facts(NamedTuple):
    name: str
    layers: int
    params: tuple  # (total, trainable, non-trainable)
    output_shape: tuple
    names_digest: str
    structure_digest: str


CASES = [
    ("VGG16", {},
     Facts("vgg16", 23, (138357544, 138357544, 0), (None, 1000),
           "6ba21e72e9d82565", "7c5dc20359827e28")),
    ("VGG19", {"include_top": False, "pooling": "max"},
     Facts("vgg19", 23, (20024384, 20024384, 0), (None, 512),
           "a7e3a3ce62781ebb", "1d11fd2ad4b3b4ce")),
    ("ResNet50", {},
     Facts("resnet50", 177, (25636712, 25583592, 53120), (None, 1000),
           "bb97e61fb3ad0d7d", "185de6cf4934e984")),
    ("ResNet101", {"include_top": False, "pooling": "avg"},
     Facts("resnet101", 346, (42658176, 42552832, 105344), (None, 2048),
           "4ca6b6b26b08294f", "2503009595147354")),
    ("ResNet152", {"include_top": False, "input_shape": (64, 64, 3)},
     Facts("resnet152", 515, (58370944, 58219520, 151424), (None, 2, 2, 2048),
           "bce77c27d2630a19", "952fb01426dd79d0")),
    ("ResNet50V2", {},
     Facts("resnet50v2", 192, (25613800, 25568360, 45440), (None, 1000),
           "cef3fe1280b548c1", "25c55a31f46cf810")),
    ("ResNet101V2", {"include_top": False, "pooling": "max"},
     Facts("resnet101v2", 378, (42626560, 42528896, 97664), (None, 2048),
           "a15eeda0d7a815ca", "80944083bf6e450f")),
    ("ResNet152V2", {"include_top": False},
     Facts("resnet152v2", 564, (58331648, 58187904, 143744), (None, None, None, 2048),
           "2fc4dbbaa49d3dc4", "f65f4683b0227091")),
    ("MobileNet", {},
     Facts("mobilenet_1.00_224", 91, (4253864, 4231976, 21888), (None, 1000),
           "42b219e63a8dbe22", "fdb65f2cee84a2b7")),
    ("MobileNet", {"alpha": 0.5, "depth_multiplier": 2, "input_shape": (128, 128, 3)},
     Facts("mobilenet_0.50_128", 91, (2159672, 2143768, 15904), (None, 1000),
           "42b219e63a8dbe22", "d47aa6c6429b14e4")),
    ("MobileNet", {"include_top": False, "input_shape": (200, 150, 3), "alpha": 0.75},
     Facts("mobilenet_0.75_200", 86, (1832976, 1816560, 16416), (None, 6, 4, 768),
           "818fd859541b79d1", "e49d908add6969a8")),
    ("MobileNetV2", {},
     Facts("mobilenetv2_1.00_224", 156, (3538984, 3504872, 34112), (None, 1000),
           "c012b6e1f9c8c7c5", "348bc622fe69410f")),
    ("MobileNetV2", {"alpha": 1.4, "classes": 10},
     Facts("mobilenetv2_1.40_224", 156, (4381642, 4333706, 47936), (None, 10),
           "c012b6e1f9c8c7c5", "1788f22a604ae582")),
    ("MobileNetV2", {"alpha": 0.35, "input_shape": (96, 96, 3)},
     Facts("mobilenetv2_0.35_96", 156, (1691208, 1677128, 14080), (None, 1000),
           "c012b6e1f9c8c7c5", "b84a9e15ee70eb36")),
    ("MobileNetV2", {"include_top": False, "pooling": "avg",
     "input_shape": (99, 99, 3), "alpha": 0.75},
     Facts("mobilenetv2_0.75_99", 155, (1382064, 1355424, 26640), (None, 1280),
           "757cb79eb8a07710", "6f7ab24cc75474a0")),
    ("DenseNet121", {},
     Facts("densenet121", 429, (8062504, 7978856, 83648), (None, 1000),
           "cc5636a449fe1916", "ae1b2e05aac4234b")),
    ("DenseNet169", {"include_top": False},
     Facts("densenet169", 595, (12642880, 12484480, 158400), (None, None, None, 1664),
           "33d1957acf7b6868", "3f4e16ee6e0c6bb2")),
    ("DenseNet201", {"include_top": False, "pooling": "avg"},
     Facts("densenet201", 708, (18321984, 18092928, 229056), (None, 1920),
           "62e6c5fea533fcc9", "796731ce9c627d51")),
    ("EfficientNetB0", {},
     Facts("efficientnetb0", 240, (5330571, 5288548, 42023), (None, 1000),
           "7cf19367d2ee1f0e", "43181b20a2848411")),
    ("EfficientNetB0", {"include_top": False, "pooling": "max", "input_shape": (65, 97, 3)},
     Facts("efficientnetb0", 238, (4049571, 4007548, 42023), (None, 1280),
           "d85a0badbabc32b0", "283813fd7a603424")),
    ("EfficientNetB1", {"include_top": False},
     Facts("efficientnetb1", 339, (6575239, 6513184, 62055), (None, None, None, 1280),
           "523fb1737a775755", "6f4c82f6c9af183a")),
    ("EfficientNetB2", {"classes": 5, "classifier_activation": None},
     Facts("efficientnetb2", 342, (7775614, 7708039, 67575), (None, 5),
           "a4fcc4e105f9cfd8", "7dfd51b4039c8973")),
]


def case_id(case) -> str:
    """A readable test id: the builder and its arguments."""
    builder, kwargs, _ = case
    return builder + "".join(f"-{key}={value}" for key, value in kwargs.items())


def describe(model) -> Facts:
    """The facts of `model` (Keras's or netknit's) that `CASES` records."""
    names = [layer.name for layer in model.layers]
    lines = [
        f"{layer.name} {type(layer).__name__} {tuple(layer.output.shape)} "
        f"{[tuple(w.shape) for w in layer.weights]}"
        for layer in model.layers
    ]
    params = (model.count_params(), _count(model.trainable_weights),
              _count(model.non_trainable_weights))
    return Facts(model.name, len(names), params, tuple(model.output_shape), _digest(names),
                 _digest(lines))


def _count(weights) -> int:
    total = 0
    for weight in weights:
        size = 1
        for dim in weight.shape:
            size *= int(dim)
        total += size
    return total


def _digest(lines: list) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
