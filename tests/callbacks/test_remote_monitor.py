"""`RemoteMonitor` posts each epoch's logs, checked against a local HTTP server."""

import json
import socket
import sys
import threading
import types
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import numpy as np
import pytest

import netknit as keras
from netknit.callbacks import RemoteMonitor

# `requests.post` takes an argument named `json`, which hides the module inside the stand-in.
_json_dumps = json.dumps


def urllib_requests():
    """A stand-in for `requests` (`post` and its exception) on urllib, for where it is missing:
    a form is URL-encoded and `json=` sent as the body, as `requests` does."""
    module = types.ModuleType("requests")

    class RequestException(OSError):
        pass

    def post(url, data=None, json=None, headers=None):
        if json is not None:
            body, content_type = _json_dumps(json), "application/json"
        else:
            body, content_type = urllib.parse.urlencode(data), "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, body.encode(), {"Content-Type": content_type,
                                                              **(headers or {})})
        try:
            urllib.request.urlopen(request, timeout=5).close()
        except urllib.error.URLError as error:
            raise RequestException(error) from error

    module.post = post
    module.exceptions = types.SimpleNamespace(RequestException=RequestException)
    return module



@pytest.fixture(params=["requests", "urllib"])
def requests_module(request, monkeypatch):
    """The real `requests` (skipped where it is not installed), then the stand-in."""
    if request.param == "requests":
        return pytest.importorskip("requests")
    monkeypatch.setitem(sys.modules, "requests", urllib_requests())
    return sys.modules["requests"]


@pytest.fixture
def server():
    """A local HTTP server in a thread; `server.received` lists (path, headers, body)."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body.decode()))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):  # keep the test output quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.received = received
    httpd.root = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_the_logs_are_posted_in_a_form_field_by_default(server, requests_module):
    monitor = RemoteMonitor(root=server.root)
    monitor.on_epoch_end(3, {"loss": np.float32(0.5), "accuracy": np.array(0.25)})
    [(path, headers, body)] = server.received
    assert path == "/publish/epoch/end/"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    [data] = urllib.parse.parse_qs(body)["data"]
    assert json.loads(data) == {"epoch": 3, "loss": 0.5, "accuracy": 0.25}


def test_json_with_headers_to_another_path(server, requests_module):
    monitor = RemoteMonitor(root=server.root, path="/runs/7", field="unused",
                            headers={"X-Run": "seven"}, send_as_json=True)
    monitor.on_epoch_end(0, {"loss": 1.5})
    [(path, headers, body)] = server.received
    assert path == "/runs/7"
    assert headers["Content-Type"] == "application/json" and headers["X-Run"] == "seven"
    assert json.loads(body) == {"epoch": 0, "loss": 1.5}


def test_fit_posts_every_epoch(server, requests_module):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    history = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0,
                        callbacks=[RemoteMonitor(root=server.root, send_as_json=True)])
    sent = [json.loads(body) for _, _, body in server.received]
    assert sent == [{"epoch": epoch, "loss": history.history["loss"][epoch],
                     "val_loss": history.history["val_loss"][epoch]} for epoch in (0, 1)]


def test_an_unreachable_server_is_a_warning(requests_module):
    with socket.socket() as probe:  # a port that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monitor = RemoteMonitor(root=f"http://127.0.0.1:{port}")
    with pytest.warns(UserWarning, match=f"Could not reach RemoteMonitor root server at "
                                         f"http://127.0.0.1:{port}"):
        monitor.on_epoch_end(0, {"loss": 0.0})


def test_without_requests_the_epoch_end_raises_keras_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "requests", None)  # `import requests` now fails
    monitor = RemoteMonitor()  # constructing needs nothing
    with pytest.raises(ImportError, match="RemoteMonitor requires the `requests` library"):
        monitor.on_epoch_end(0, {"loss": 0.0})


@pytest.mark.parametrize("kwargs, message", [
    ({"root": 9000}, "Expected a string for root"),
    ({"path": None}, "Expected a string for path"),
    ({"headers": ["X-Run: 1"]}, "Expected a dict of HTTP headers"),
])
def test_arguments_are_checked(kwargs, message):
    with pytest.raises(TypeError, match=message):
        RemoteMonitor(**kwargs)


@pytest.mark.parametrize("send_as_json", [False, True])
def test_the_same_requests_calls_as_keras(monkeypatch, send_as_json):
    real_keras = pytest.importorskip("keras")
    from keras.src.callbacks import remote_monitor as keras_remote_monitor

    logs = {"loss": 0.0, "val": np.arange(1), "f32": np.float32(1.0)}
    calls = []
    for module, monitor_class in ((keras_remote_monitor, real_keras.callbacks.RemoteMonitor),
                                  (None, RemoteMonitor)):
        fake = mock.Mock(exceptions=types.SimpleNamespace(RequestException=OSError))
        if module is None:
            monkeypatch.setitem(sys.modules, "requests", fake)
        else:
            monkeypatch.setattr(module, "requests", fake)
        monitor_class(headers={"a": "b"}, send_as_json=send_as_json).on_epoch_end(2, logs)
        calls.append(fake.post.call_args_list)
    assert calls[0] == calls[1]
