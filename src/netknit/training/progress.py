"""The progress bar: draws Keras's bar on a terminal and plain lines anywhere else.

On a terminal or in Jupyter (verbose=1), `rich` redraws one line in place, at most once per
`interval` seconds, cut to the terminal's width while it moves; the line that ends an epoch is
written whole:

    12/100 ━━━━━━━━━━━━━━━━━━━━ 1s 10ms/step - accuracy: 0.9000 - loss: 0.3000

When the output is a file, a pipe or a CI log, no control character is ever written (no `"\\r"`,
no backspace, no ANSI escape): each epoch ends with one complete line, and a long epoch adds a
plain progress line every `LOG_INTERVAL` seconds. verbose=2 prints only the line that ends an
epoch: `32/32 - 0s - 3ms/step - accuracy: 0.5312 - loss: 0.6931`.

Metric values are read only when a line is drawn, so values that cost a device sync to read
(the trainer's lazy batch logs) are read at most once per refresh, not once per step.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Iterable, Mapping

# Seconds between two plain progress lines within one epoch when the output is not a terminal.
LOG_INTERVAL = 30.0

# The bar being drawn in place, if any: `write_line` prints above it through its console.
_live_bar: Progbar | None = None

# Keras's interactive logging: on, lines go to stdout (and a terminal gets the live bar); off
# (`keras.config.disable_interactive_logging()`), every line goes to the `netknit` logger at
# INFO level instead, as Keras sends them to absl's logging.
_interactive = True
_logger = logging.getLogger("netknit")


def enable_interactive_logging() -> None:
    """Progress bars and messages on stdout (the default)."""
    global _interactive
    _interactive = True


def disable_interactive_logging() -> None:
    """Progress lines and messages to the `netknit` logger (INFO), not stdout."""
    global _interactive
    _interactive = False


def is_interactive_logging_enabled() -> bool:
    return _interactive


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return True
    # Jupyter's stream is not a tty, but rich draws a live bar there.
    return type(stream).__module__.startswith("ipykernel")


def resolve_verbose(verbose, stream=None) -> int:
    """Turns `verbose="auto"` into 1 on a terminal and 2 elsewhere; checks other values.

    >>> import io
    >>> resolve_verbose("auto", io.StringIO())
    2
    """
    if verbose == "auto":
        return 1 if _is_terminal(stream if stream is not None else sys.stdout) else 2
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"Expected verbose to be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return verbose


def write_line(text: str) -> None:
    """Prints one line to stdout without garbling a progress bar that is being drawn in place."""
    if not _interactive:
        _logger.info(text)
        return
    if _live_bar is not None and _live_bar._live.console.file is sys.stdout:
        # The live display prints the line above the bar and redraws the bar below it.
        _live_bar._live.console.print(text, markup=False, highlight=False, emoji=False,
                                      soft_wrap=True)
        return
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def format_value(value: float) -> str:
    """A metric value as Keras shows it: 4 decimals, or scientific notation when tiny."""
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def _format_duration(seconds: float) -> str:
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_time_per_unit(seconds: float, unit_name: str) -> str:
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


class Progbar:
    """Displays a progress bar, as `keras.utils.Progbar` does.

    Args:
        target: the total number of steps, or None when unknown.
        width: the number of characters of the bar itself.
        verbose: 0 (silent), 1 (live bar on a terminal, one line per epoch elsewhere) or
            2 (one line when the target is reached).
        interval: the minimum number of seconds between two redraws.
        stateful_metrics: names of metrics shown as given; every other metric is averaged over
            the steps seen. Give this or `stateless_metrics`, not both.
        stateless_metrics: names of metrics to average; every other metric is shown as given.
            `stateless_metrics=()` shows every value as given, which lets the bar read values
            only when it draws.
        unit_name: the name of one step in the time per step, e.g. `"step"` or `"sample"`.

    >>> bar = Progbar(target=2, verbose=2)
    >>> bar.update(1, [("loss", 0.5)])
    >>> bar.update(2, [("loss", 0.3)])  # doctest: +ELLIPSIS
    2/2 - 0s - ... - loss: 0.3000
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1,
                 interval: float = 0.05, stateful_metrics: Iterable[str] | None = None,
                 stateless_metrics: Iterable[str] | None = None, unit_name: str = "step"):
        if target is not None and (not isinstance(target, int) or target < 0):
            raise ValueError(f"Expected target to be a non-negative integer or None. "
                             f"Received: target={target!r}")
        if not isinstance(width, int) or width <= 0:
            raise ValueError(f"Expected a positive integer for width. Received: width={width!r}")
        if verbose not in (0, 1, 2) or isinstance(verbose, bool):
            raise ValueError(f"Expected verbose to be 0, 1 or 2. Received: verbose={verbose!r}")
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Pass stateful_metrics or stateless_metrics, not both. Received: "
                             f"stateful_metrics={stateful_metrics!r}, "
                             f"stateless_metrics={stateless_metrics!r}")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self._stateful = None if stateful_metrics is None else frozenset(stateful_metrics)
        self._stateless = None if stateless_metrics is None else frozenset(stateless_metrics)
        self._names: list[str] = []
        self._averages: dict[str, list[float]] = {}  # name -> [weighted sum, weight]
        self._latest: Mapping | dict = {}  # values shown as given, read when drawing
        self._seen_so_far = 0
        self._start = time.monotonic()
        self._time_after_first_step: float | None = None
        self._last_draw = -math.inf
        self._last_log_line = self._start
        self._live = None  # the `rich.live.Live` display of the bar on a terminal

    def _is_stateless(self, name: str) -> bool:
        if self._stateful is not None:
            return name not in self._stateful
        return self._stateless is None or name in self._stateless

    def update(self, current: int, values=None, finalize: bool | None = None) -> None:
        """Moves the bar to step `current`.

        Args:
            current: the number of steps done.
            values: `(name, value)` pairs or a mapping of the latest metric values. Values of
                metrics shown as given are read only when the bar draws.
            finalize: whether this is the last update; by default, whether `current` reached
                the target.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if values:
            self._record(current, values, finalize)
        self._seen_so_far = current
        now = time.monotonic()
        time_per_unit = self._time_per_unit(current, now)
        if self.verbose == 0 or (self.verbose == 2 and not finalize):
            return
        if not finalize and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        stream = sys.stdout
        if self.verbose == 2:
            self._write_line(stream, self._summary_line(current, now, time_per_unit))
        elif _interactive and _is_terminal(stream):
            self._draw_live(stream, current, now, time_per_unit, finalize)
        elif finalize or now - self._last_log_line >= LOG_INTERVAL:
            self._last_log_line = now
            self._write_line(stream, self._bar_line(current, now, time_per_unit, finalize))

    def add(self, n: int, values=None) -> None:
        """Moves the bar `n` steps forward."""
        self.update(self._seen_so_far + n, values)

    def _record(self, current, values, finalize):
        if not isinstance(values, Mapping):
            values = dict(values)
        for name in values:
            if name not in self._names:
                self._names.append(name)
        if self._stateless == frozenset():
            self._latest = values  # nothing to average: keep the mapping, read it when drawing
            return
        latest = {}
        for name, value in values.items():
            if not self._is_stateless(name):
                latest[name] = value
            elif finalize:
                self._averages[name] = [value, 1]
            else:
                weight = max(current - self._seen_so_far, 1)
                total = self._averages.setdefault(name, [0.0, 0])
                total[0] += value * weight
                total[1] += weight
        self._latest = latest

    def _metrics_text(self) -> str:
        parts = []
        # Membership is tested on the keys: `in` on a Mapping would read (compute) the value.
        latest_names = set(self._latest)
        for name in self._names:
            if name in latest_names:
                value = float(self._latest[name])
            elif name in self._averages:
                total, weight = self._averages[name]
                value = total / max(weight, 1)
            else:
                continue
            parts.append(f" - {name}: {format_value(value)}")
        return "".join(parts)

    def _time_per_unit(self, current, now):
        # The first step (compilation, warm-up) is left out of the estimate once there are more.
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit

    def _count(self, current) -> str:
        digits = len(str(self.target))
        return f"{current:{digits}d}/{self.target}"

    def _bar_pieces(self, current, now, time_per_unit, finalize):
        """The bar line as `(text, style)` pieces: a terminal shows the styles, Keras's colors."""
        if self.target:
            filled = min(int(self.width * current / self.target), self.width)
            pieces = [(self._count(current), "bold"), (" ", ""), ("━" * filled, "green"),
                      ("━" * (self.width - filled), "white")]
        else:
            pieces = [(f"{current:7d}/Unknown", "bold")]
        if self.target and not finalize:
            clock = _format_duration(time_per_unit * (self.target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        rate = _format_time_per_unit(time_per_unit, self.unit_name)
        return [*pieces, (" ", ""), (clock, "bold"), (f" {rate}{self._metrics_text()}", "")]

    def _bar_line(self, current, now, time_per_unit, finalize):
        return "".join(text for text, _ in self._bar_pieces(current, now, time_per_unit, finalize))

    def _summary_line(self, current, now, time_per_unit):
        count = self._count(current) if self.target else f"{current}/Unknown"
        rate = _format_time_per_unit(time_per_unit, self.unit_name)
        return f"{count} - {now - self._start:.0f}s - {rate}{self._metrics_text()}"

    def _draw_live(self, stream, current, now, time_per_unit, finalize):
        global _live_bar
        # rich is imported on the first live bar: most imports of netknit never draw one.
        from rich.live import Live
        from rich.text import Text

        pieces = self._bar_pieces(current, now, time_per_unit, finalize)
        if finalize:
            # The live line is erased and the last one printed whole, left to the terminal to wrap.
            console = _console(stream) if self._live is None else self._live.console
            self._stop_live()
            console.print(Text.assemble(*pieces), soft_wrap=True)
            return
        if self._live is None or self._live.console.file is not stream:
            self._stop_live()
            # No auto-refresh thread: the bar reads the (lazy) metric values only here, on the
            # training thread. stdout is left in place, so `write_line` finds the stream.
            self._live = Live(console=_console(stream), auto_refresh=False, transient=True,
                              redirect_stdout=False, redirect_stderr=False)
            self._live.start()
            # Keras keeps the cursor visible; a fit stopped by Ctrl-C must not leave it hidden.
            self._live.console.show_cursor(True)
        # Cut to the terminal's width: a wrapped line could not be redrawn in place.
        self._live.update(Text.assemble(*pieces, no_wrap=True, overflow="ellipsis"), refresh=True)
        _live_bar = self

    def _stop_live(self):
        global _live_bar
        if self._live is not None:
            self._live.stop()
            self._live = None
        if _live_bar is self:
            _live_bar = None

    @staticmethod
    def _write_line(stream, text):
        if not _interactive:
            _logger.info(text)
            return
        stream.write(text + "\n")
        stream.flush()


def _console(stream):
    from rich.console import Console

    return Console(file=stream, highlight=False, markup=False, emoji=False)
