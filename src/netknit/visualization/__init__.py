"""Drawing bounding boxes and segmentation masks on images, and galleries of images, as in
`keras.visualization`.

`draw_bounding_boxes` draws with OpenCV (`pip install opencv-python-headless`) and the `plot_*`
galleries with matplotlib (`pip install matplotlib`); netknit requires neither: each is imported
when a function first needs it, and its absence is an `ImportError` that says what to install.

>>> from netknit.visualization import draw_segmentation_masks, plot_image_gallery
"""

from .drawing import draw_bounding_boxes as draw_bounding_boxes
from .drawing import draw_segmentation_masks as draw_segmentation_masks
from .galleries import plot_bounding_box_gallery as plot_bounding_box_gallery
from .galleries import plot_image_gallery as plot_image_gallery
from .galleries import plot_segmentation_mask_gallery as plot_segmentation_mask_gallery

__all__ = ["draw_bounding_boxes", "draw_segmentation_masks", "plot_bounding_box_gallery",
           "plot_image_gallery", "plot_segmentation_mask_gallery"]
