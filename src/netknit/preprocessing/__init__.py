"""`keras.preprocessing`: Keras's older home of some data utilities, kept as aliases of the ones
in `keras.utils` (`keras.preprocessing.sequence.pad_sequences`, `keras.preprocessing.image.*`,
`keras.preprocessing.image_dataset_from_directory`)."""

from ..utils import image_dataset_from_directory as image_dataset_from_directory
from ..utils import text_dataset_from_directory as text_dataset_from_directory
from ..utils import timeseries_dataset_from_array as timeseries_dataset_from_array
from . import image as image
from . import sequence as sequence

__all__ = ["image", "image_dataset_from_directory", "sequence", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]
