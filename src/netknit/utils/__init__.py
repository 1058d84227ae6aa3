"""User-facing helpers."""

from ..layers.layer import clear_session as clear_session
