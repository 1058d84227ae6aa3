"""`keras.preprocessing.image`: the image file utilities of `keras.utils`."""

from ..utils import array_to_img as array_to_img
from ..utils import img_to_array as img_to_array
from ..utils import load_img as load_img
from ..utils import save_img as save_img

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]
