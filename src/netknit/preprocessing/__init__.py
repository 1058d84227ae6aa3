"""`keras.preprocessing`: Keras's older home of some data utilities, kept as aliases of the ones
in `keras.utils` (`keras.preprocessing.sequence.pad_sequences`, `keras.preprocessing.image.*`)."""

from ..utils import timeseries_dataset_from_array as timeseries_dataset_from_array
from . import image as image
from . import sequence as sequence

__all__ = ["image", "sequence", "timeseries_dataset_from_array"]
