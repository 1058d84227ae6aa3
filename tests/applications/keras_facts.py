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
    ("Xception", {},
     Facts("xception", 134, (22910480, 22855952, 54528), (None, 1000),
           "a65ec06ca9bedd25", "9a4bfb9335dc039e")),
    ("Xception", {"include_top": False, "pooling": "avg", "input_shape": (71, 80, 3)},
     Facts("xception", 133, (20861480, 20806952, 54528), (None, 2048),
           "d00f9146010a2518", "dfc4f7d81c4a19bf")),
    ("InceptionV3", {},
     Facts("inception_v3", 313, (23851784, 23817352, 34432), (None, 1000),
           "21d32daafca798d9", "2c13a5d4552589f2")),
    ("InceptionV3", {"include_top": False, "pooling": "max", "input_shape": (75, 90, 3)},
     Facts("inception_v3", 312, (21802784, 21768352, 34432), (None, 2048),
           "115ba9e495650394", "087245ddbdf6f0f4")),
    ("MobileNetV3Small", {},
     Facts("MobileNetV3Small", 164, (2554968, 2542856, 12112), (None, 1000),
           "775bfb33f6f6bda1", "00c17168d9e98407")),
    ("MobileNetV3Large", {},
     Facts("MobileNetV3Large", 194, (5507432, 5483032, 24400), (None, 1000),
           "714073e60b994a34", "2b3a7a7d116bc2b2")),
    ("MobileNetV3Small", {"include_top": False, "pooling": "avg", "minimalistic": True,
                          "alpha": 0.75},
     Facts("MobileNetV3Small", 104, (273800, 264120, 9680), (None, 432),
           "995b596506d30224", "c7c9d74fa9de3466")),
    ("MobileNetV3Large", {"alpha": 1.25, "include_preprocessing": False, "classes": 10,
                          "input_shape": (64, 80, 3)},
     Facts("MobileNetV3Large", 192, (6701770, 6670794, 30976), (None, 10),
           "ece0247b2711acfb", "506a42cfc5ecbf24")),
    ("MobileNetV3Large", {"include_top": False, "pooling": "max", "dropout_rate": 0},
     Facts("MobileNetV3Large", 188, (2996352, 2971952, 24400), (None, 960),
           "20c92d0b4f3184a1", "1fa0f7e77805256e")),
    ("ConvNeXtTiny", {},
     Facts("convnext_tiny", 135, (28589128, 28589128, 0), (None, 1000),
           "a20b4ada36fdc8d9", "c5c757ca9ac8511f")),
    ("ConvNeXtTiny", {"include_top": False, "input_shape": (32, 32, 3)},
     Facts("convnext_tiny", 133, (27820128, 27820128, 0), (None, 1, 1, 768),
           "c5672739200893e9", "4099eb7b9be98a83")),
    ("ConvNeXtSmall", {"include_top": False, "pooling": "avg", "include_preprocessing": False},
     Facts("convnext_small", 259, (49454688, 49454688, 0), (None, 768),
           "0969cfdf408a8533", "2847f5274c5979da")),
    ("ConvNeXtBase", {"include_top": False, "pooling": "max", "input_shape": (64, 64, 3)},
     Facts("convnext_base", 260, (87566464, 87566464, 0), (None, 1024),
           "d3fa9548e4f665ac", "90da1d8bbb51f071")),
    ("ConvNeXtLarge", {"input_shape": (224, 224, 3), "classes": 10},
     Facts("convnext_large", 261, (196245706, 196245706, 0), (None, 10),
           "1aa56b6c023a9d98", "6acbdc620fd5d1b3")),
    ("ConvNeXtXLarge", {},
     Facts("convnext_xlarge", 261, (350196968, 350196968, 0), (None, 1000),
           "6913f5c410f2b3fe", "d4c18dcbe838947c")),
    ("EfficientNetV2B0", {},
     Facts("efficientnetv2-b0", 273, (7200312, 7139704, 60608), (None, 1000),
           "dd7ad1b5eec2e7ff", "65c773df159b3a84")),
    ("EfficientNetV2B1", {"include_top": False, "pooling": "avg", "input_shape": (64, 64, 3)},
     Facts("efficientnetv2-b1", 335, (6931124, 6860052, 71072), (None, 1280),
           "cb93d545fe9bb130", "00fb574f6a4ce82d")),
    ("EfficientNetV2B3", {"classes": 7, "include_preprocessing": False},
     Facts("efficientnetv2-b3", 410, (12941381, 12832165, 109216), (None, 7),
           "de4f63a99bd27baf", "9fefea91e4e063d1")),
    ("EfficientNetV2S", {},
     Facts("efficientnetv2-s", 516, (21612360, 21458488, 153872), (None, 1000),
           "4ae37617110890a6", "b0749468ecff1211")),
    ("EfficientNetV2S", {"include_top": False, "pooling": "max", "input_shape": (64, 64, 3)},
     Facts("efficientnetv2-s", 514, (20331360, 20177488, 153872), (None, 1280),
           "258e2b9d8a77066d", "7774d14be88df7a4")),
    ("EfficientNetV2M", {},
     Facts("efficientnetv2-m", 743, (54431388, 54139356, 292032), (None, 1000),
           "ccc89a45ead57912", "3d7d3d282b2865fa")),
    ("EfficientNetV2L", {"include_top": False, "pooling": "avg"},
     Facts("efficientnetv2-l", 1029, (117746848, 117234272, 512576), (None, 1280),
           "eeaeccbfc982960c", "7471cdb475e19dcc")),
    ("InceptionResNetV2", {},
     Facts("inception_resnet_v2", 782, (55873736, 55813192, 60544), (None, 1000),
           "45e8663620a51f78", "c54f27936197ab37")),
    ("InceptionResNetV2", {"include_top": False, "pooling": "avg", "input_shape": (75, 80, 3)},
     Facts("inception_resnet_v2", 781, (54336736, 54276192, 60544), (None, 1536),
           "6ffc07bf4e2b7536", "2b7884e923697671")),
    ("NASNetMobile", {},
     Facts("nasnet_mobile", 771, (5326716, 5289978, 36738), (None, 1000),
           "726ef9113a330e0a", "5bc89d17de3f6032")),
    ("NASNetLarge", {},
     Facts("nasnet_large", 1041, (88949818, 88753150, 196668), (None, 1000),
           "430d5cc571d5d878", "d8ce34a4c2a89832")),
    ("NASNetLarge", {"include_top": False, "input_shape": (64, 64, 3)},
     Facts("nasnet_large", 1039, (84916818, 84720150, 196668), (None, 2, 2, 4032),
           "3e01f4d9195b74b7", "d6ed75031879e5a7")),
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
