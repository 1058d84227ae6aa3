"""`get_config()` lists its keys in Keras's order (configs are compared as JSON text): the orders
observed from Keras 3.15.1, and a live comparison of every layer both export, nested configs
included."""

import pytest

import netknit as keras
from netknit import initializers, layers

BASE = ["name", "trainable", "dtype"]
CELL = ["units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias",
        "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer",
        "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
        "bias_constraint", "dropout", "recurrent_dropout", "seed"]
SEQUENCE = ["return_sequences", "return_state", "go_backwards", "stateful", "unroll",
            "zero_output_for_mask"]
# A layer lists unit_forget_bias after the initializers, and its activity_regularizer.
LAYER_KERNELS = ["activation", "recurrent_activation", "use_bias", "kernel_initializer",
                 "recurrent_initializer", "bias_initializer", "unit_forget_bias",
                 "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                 "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                 "bias_constraint", "dropout", "recurrent_dropout", "seed"]
AFFINE = ["epsilon", "center", "scale", "beta_initializer", "gamma_initializer"]
AFFINE_TAIL = ["beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"]
AUGMENTATION = BASE + ["data_format"]

KERAS_ORDERS = [
    (lambda: layers.LSTMCell(2), BASE + CELL),
    (lambda: layers.LSTM(2), BASE + SEQUENCE + ["units"] + LAYER_KERNELS),
    (lambda: layers.GRU(2), BASE + SEQUENCE + ["units"] + [
        k for k in LAYER_KERNELS if k not in ("unit_forget_bias", "seed")] + ["reset_after",
                                                                              "seed"]),
    (lambda: layers.ConvLSTM2D(2, 2), BASE + SEQUENCE + [
        "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"]
     + LAYER_KERNELS),
    (lambda: layers.BatchNormalization(), BASE + ["axis", "momentum"] + AFFINE + [
        "moving_mean_initializer", "moving_variance_initializer"] + AFFINE_TAIL + [
        "synchronized", "renorm", "renorm_clipping", "renorm_momentum"]),
    (lambda: layers.LayerNormalization(), BASE + ["axis", "epsilon", "center", "scale",
                                                  "rms_scaling"] + AFFINE[3:] + AFFINE_TAIL),
    (lambda: layers.GroupNormalization(), BASE + ["groups", "axis"] + AFFINE + AFFINE_TAIL),
    (lambda: layers.GroupQueryAttention(2, 2, 1), BASE + [
        "head_dim", "num_query_heads", "num_key_value_heads", "use_bias", "use_gate",
        "sliding_window", "dropout", "kernel_initializer", "bias_initializer",
        "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
        "bias_constraint", "seed"]),
    (lambda: layers.ELU(), ["name", "alpha", "trainable", "dtype"]),
    # Keras's has no fill_value (it loads as -1); ours keeps it last.
    (lambda: layers.MaxNumBoundingBoxes(3), BASE + ["data_format", "max_number", "fill_value"]),
    (lambda: layers.IntegerLookup(), BASE + [
        "invert", "max_tokens", "num_oov_indices", "oov_token", "mask_token", "output_mode",
        "sparse", "pad_to_max_tokens", "vocabulary_dtype", "idf_weights", "vocabulary",
        "vocabulary_size", "oov_method", "salt"]),
    # Augmentations list seed last, or where Keras's own config puts it.
    (lambda: layers.RandomRotation(0.2), AUGMENTATION + [
        "factor", "fill_mode", "fill_value", "interpolation", "seed"]),
    (lambda: layers.RandomShear(0.2, bounding_box_format="xyxy"), AUGMENTATION + [
        "bounding_box_format", "x_factor", "y_factor", "fill_mode", "interpolation", "seed",
        "fill_value"]),
    (lambda: layers.RandomElasticTransform(), AUGMENTATION + [
        "factor", "scale", "interpolation", "fill_mode", "fill_value", "value_range", "seed"]),
    (lambda: layers.RandomGaussianBlur(), AUGMENTATION + [
        "factor", "kernel_size", "sigma", "value_range", "seed"]),
    (lambda: layers.MixUp(), AUGMENTATION + ["alpha", "seed"]),
    (lambda: layers.RandomGrayscale(), AUGMENTATION + ["factor"]),
    (lambda: initializers.Orthogonal(), ["seed", "gain"]),
    (lambda: initializers.RandomNormal(), ["seed", "mean", "stddev"]),
    (lambda: initializers.TruncatedNormal(), ["seed", "mean", "stddev"]),
    (lambda: initializers.RandomUniform(), ["seed", "minval", "maxval"]),
]


@pytest.mark.parametrize("make, order", KERAS_ORDERS)
def test_keras_s_key_order(make, order):
    assert list(make().get_config()) == order


def test_a_layer_s_cell_config_keeps_the_cell_order():
    rnn = layers.RNN(layers.LSTMCell(2))
    assert list(rnn.get_config()["cell"]["config"]) == BASE + CELL
    bidirectional = layers.Bidirectional(layers.GRU(2))
    assert list(bidirectional.get_config()["layer"]["config"]) == list(
        layers.GRU(2).get_config())


def _orders(config, path="") -> dict:
    """{path: list of keys} of every dict in a nested config."""
    found = {}
    if isinstance(config, dict):
        found[path or "/"] = list(config)
        for key, value in config.items():
            found.update(_orders(value, f"{path}/{key}"))
    elif isinstance(config, (list, tuple)):
        for i, value in enumerate(config):
            found.update(_orders(value, f"{path}[{i}]"))
    return found


# Constructor arguments of the layers that need some; the others take none.
ARGUMENTS = {
    "Activation": ("relu",), "AdaptiveAveragePooling1D": (2,), "AdaptiveAveragePooling2D": (2,),
    "AdaptiveAveragePooling3D": (2,), "AdaptiveMaxPooling1D": (2,), "AdaptiveMaxPooling2D": (2,),
    "AdaptiveMaxPooling3D": (2,), "AveragePooling1D": (2,), "AveragePooling2D": (2,),
    "AveragePooling3D": (2,), "CategoryEncoding": (3,), "CenterCrop": (4, 4), "Conv1D": (2, 2),
    "Conv1DTranspose": (2, 2), "Conv2D": (2, 2), "Conv2DTranspose": (2, 2), "Conv3D": (2, 2),
    "Conv3DTranspose": (2, 2), "ConvLSTM1D": (2, 2), "ConvLSTM2D": (2, 2), "ConvLSTM3D": (2, 2),
    "Dense": (3,), "DepthwiseConv1D": (2,), "DepthwiseConv2D": (2,), "Dot": (1,),
    "Dropout": (0.5,), "EinsumDense": ("ab,bc->ac", 3), "Embedding": (5, 3),
    "GaussianDropout": (0.1,), "GaussianNoise": (0.1,), "AlphaDropout": (0.1,), "GRU": (2,),
    "GRUCell": (2,), "GroupQueryAttention": (2, 2, 1), "LSTM": (2,), "LSTMCell": (2,),
    "MaxNumBoundingBoxes": (3,), "MaxPooling1D": (2,), "MaxPooling2D": (2,),
    "MaxPooling3D": (2,), "MultiHeadAttention": (2, 2), "Permute": ((2, 1),),
    "RandomBrightness": (0.2,), "RandomColorDegeneration": (0.2,), "RandomContrast": (0.2,),
    "RandomCrop": (4, 4), "RandomHue": (0.2,), "RandomPosterization": (4,),
    "RandomRotation": (0.2,), "RandomSaturation": (0.2,), "RandomSharpness": (0.2,),
    "RandomShear": (0.2,), "RandomTranslation": (0.2, 0.2), "RandomZoom": (0.2,),
    "RepeatVector": (2,), "Rescaling": (0.5,), "Reshape": ((2, 2),), "Resizing": (4, 4),
    "ReversibleEmbedding": (5, 3), "SeparableConv1D": (2, 2), "SeparableConv2D": (2, 2),
    "SimpleRNN": (2,), "SimpleRNNCell": (2,), "SpatialDropout1D": (0.5,),
    "SpatialDropout2D": (0.5,), "SpatialDropout3D": (0.5,), "UnitNormalization": (),
}


def _make(lib, name):
    cls = getattr(lib.layers, name)
    if name in ("RNN", "Bidirectional", "TimeDistributed", "SpectralNormalization"):
        inner = {"RNN": lib.layers.LSTMCell(2), "Bidirectional": lib.layers.LSTM(2)}
        return cls(inner.get(name, lib.layers.Dense(2)))
    if name == "StackedRNNCells":
        return cls([lib.layers.LSTMCell(2), lib.layers.GRUCell(2)])
    if name == "Discretization":
        return cls(bin_boundaries=[0.0, 1.0])
    if name == "Lambda":
        return cls(lambda x: x)
    return cls(*ARGUMENTS.get(name, ()))


LAYERS = ["Activation", "ActivityRegularization", "AdaptiveAveragePooling2D", "Add",
          "AdditiveAttention", "AlphaDropout", "Attention", "AveragePooling2D",
          "BatchNormalization", "Bidirectional", "CategoryEncoding", "CenterCrop",
          "Concatenate", "Conv1D", "Conv1DTranspose", "Conv2D", "Conv3D", "ConvLSTM1D",
          "ConvLSTM2D", "Cropping2D", "Dense", "DepthwiseConv2D", "Discretization", "Dot",
          "Dropout", "ELU", "EinsumDense", "Embedding", "Flatten", "GRU", "GRUCell",
          "GaussianNoise", "GlobalAveragePooling2D", "GroupNormalization",
          "GroupQueryAttention", "Identity", "LSTM", "LSTMCell", "Lambda", "LayerNormalization",
          "LeakyReLU", "MaxNumBoundingBoxes", "MaxPooling2D", "MultiHeadAttention",
          "Normalization", "PReLU", "RNN", "RMSNormalization", "ReLU", "RepeatVector",
          "Rescaling", "Reshape", "Resizing", "ReversibleEmbedding", "SeparableConv2D",
          "SimpleRNN", "SimpleRNNCell", "Softmax", "SpatialDropout2D", "SpectralNormalization",
          "StackedRNNCells", "TimeDistributed", "UnitNormalization", "UpSampling2D",
          "ZeroPadding2D",
          # augmentation
          "AugMix", "AutoContrast", "CutMix", "Equalization", "MixUp", "RandAugment",
          "RandomBrightness", "RandomColorDegeneration", "RandomColorJitter", "RandomContrast",
          "RandomCrop", "RandomElasticTransform", "RandomErasing", "RandomFlip",
          "RandomGaussianBlur", "RandomGrayscale", "RandomHue", "RandomInvert",
          "RandomPerspective", "RandomPosterization", "RandomRotation", "RandomSaturation",
          "RandomSharpness", "RandomShear", "RandomTranslation", "RandomZoom", "Solarization"]


@pytest.mark.parametrize("name", LAYERS)
def test_key_order_matches_keras(name, real_keras):
    theirs = _orders(_make(real_keras, name).get_config())
    ours = _orders(_make(keras, name).get_config())
    for path, keys in theirs.items():
        # Keras's MaxNumBoundingBoxes leaves fill_value out; ours keeps it, last.
        mine = [k for k in ours.get(path, keys) if k in keys]
        assert mine == keys, path
