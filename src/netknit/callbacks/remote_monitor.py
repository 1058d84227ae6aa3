"""`RemoteMonitor`: posts each epoch's logs to an HTTP server."""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping

import numpy as np
import torch

from .callback import Callback


class RemoteMonitor(Callback):
    """Sends the logs of each epoch to a server, as an HTTP POST to `root + path`.

    The logs, with the epoch index (from 0) under `"epoch"`, are encoded as JSON. By default they
    are sent as a form whose `field` holds that JSON; with `send_as_json=True` the JSON is the
    request body (content type `application/json`). A server that cannot be reached gives a
    warning, and training goes on.

    It needs the `requests` library, which netknit does not: it is imported when the first epoch
    ends, and its absence is an ImportError then.

    Args:
        root: the server's root URL.
        path: the path under `root` that the logs are posted to.
        field: the form field that holds the JSON (only used when `send_as_json` is False).
        headers: optional HTTP headers sent with each request, as a dict.
        send_as_json: True to send the JSON as the body, False to send it in a form.

    >>> monitor = RemoteMonitor(root="http://localhost:9000", send_as_json=True)
    """

    rank_zero_only = True

    def __init__(self, root: str = "http://localhost:9000", path: str = "/publish/epoch/end/",
                 field: str = "data", headers: Mapping[str, str] | None = None,
                 send_as_json: bool = False):
        super().__init__()
        for name, value in (("root", root), ("path", path), ("field", field)):
            if not isinstance(value, str):
                raise TypeError(f"Expected a string for {name}. Received: {name}={value!r}")
        if headers is not None and not isinstance(headers, Mapping):
            raise TypeError("Expected a dict of HTTP headers, or None. Received: "
                            f"headers={headers!r}")
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        requests = _requests()
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            # NumPy and torch scalars are not JSON numbers: send their Python values.
            is_array = isinstance(value, (np.ndarray, np.generic, torch.Tensor))
            send[key] = value.item() if is_array else value
        url = self.root + self.path
        try:
            if self.send_as_json:
                requests.post(url, json=send, headers=self.headers)
            else:
                requests.post(url, {self.field: json.dumps(send)}, headers=self.headers)
        except requests.exceptions.RequestException:
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}",
                          stacklevel=2)


def _requests():
    """The `requests` module, imported on first use so that netknit does not depend on it."""
    try:
        import requests
    except ImportError as error:
        raise ImportError("RemoteMonitor requires the `requests` library. Install it with "
                          "`pip install requests`.") from error
    return requests
