"""The few backend helpers Keras users call: `clear_session`."""

from .layers.layer import clear_session as clear_session
