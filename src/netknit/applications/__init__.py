"""Keras's application models, built from netknit layers: `keras.applications.ResNet50()`.

Each builder makes a functional `Model` with Keras 3's architecture, layer names and weight
order, so weights files move between Keras and netknit. netknit does not download files:
`weights="imagenet"` (Keras's default) raises, and says to pass `weights=None` or the path to a
weights file. Each family's module (`vgg16`, `resnet`, `mobilenet_v2`, ...) also has its
`preprocess_input`.

>>> model = ResNet50(weights=None, include_top=False, input_shape=(64, 64, 3), pooling="avg")
>>> model.output_shape
(None, 2048)
"""

from . import densenet as densenet
from . import efficientnet as efficientnet
from . import imagenet_utils as imagenet_utils
from . import mobilenet as mobilenet
from . import mobilenet_v2 as mobilenet_v2
from . import resnet as resnet
from . import resnet50 as resnet50
from . import resnet_v2 as resnet_v2
from . import vgg16 as vgg16
from . import vgg19 as vgg19
from .densenet import DenseNet121 as DenseNet121
from .densenet import DenseNet169 as DenseNet169
from .densenet import DenseNet201 as DenseNet201
from .efficientnet import EfficientNetB0 as EfficientNetB0
from .efficientnet import EfficientNetB1 as EfficientNetB1
from .efficientnet import EfficientNetB2 as EfficientNetB2
from .efficientnet import EfficientNetB3 as EfficientNetB3
from .efficientnet import EfficientNetB4 as EfficientNetB4
from .efficientnet import EfficientNetB5 as EfficientNetB5
from .efficientnet import EfficientNetB6 as EfficientNetB6
from .efficientnet import EfficientNetB7 as EfficientNetB7
from .mobilenet import MobileNet as MobileNet
from .mobilenet_v2 import MobileNetV2 as MobileNetV2
from .resnet import ResNet50 as ResNet50
from .resnet import ResNet101 as ResNet101
from .resnet import ResNet152 as ResNet152
from .resnet_v2 import ResNet50V2 as ResNet50V2
from .resnet_v2 import ResNet101V2 as ResNet101V2
from .resnet_v2 import ResNet152V2 as ResNet152V2
from .vgg16 import VGG16 as VGG16
from .vgg19 import VGG19 as VGG19

__all__ = [
    "DenseNet121", "DenseNet169", "DenseNet201", "EfficientNetB0", "EfficientNetB1",
    "EfficientNetB2", "EfficientNetB3", "EfficientNetB4", "EfficientNetB5", "EfficientNetB6",
    "EfficientNetB7", "MobileNet", "MobileNetV2", "ResNet101",
    "ResNet101V2", "ResNet152", "ResNet152V2", "ResNet50", "ResNet50V2", "VGG16", "VGG19",
    "densenet", "efficientnet", "imagenet_utils", "mobilenet", "mobilenet_v2", "resnet", "resnet50",
    "resnet_v2", "vgg16", "vgg19",
]
