"""Progress on stderr for ``tfapprox verify``: elapsed time and ETA, also when piped.

Checks report progress through the callback protocol ``progress(done, total, label)``
(:class:`tfapprox.verify.registry.Check`); a :class:`ProgressReporter` is such a callback.

* On a terminal it draws one self-updating bar line with the step, the elapsed time of the
  check and an ETA (redrawn at most ``redraw_interval`` times per second, and once a second by
  a timer thread so the elapsed time keeps moving during a long step).
* When the stream is not a terminal (``verify --all 2>&1 | cat``, CI logs) it writes whole
  lines instead of a bar: a start line and an end line per check, at most one step line per
  ``min_interval`` seconds (default 10 s), and, when a check's own callbacks are sparse (one
  step can run for minutes), a heartbeat line ``still running CHECK (elapsed ...)`` whenever
  nothing was written for ``max_interval`` seconds (default 60 s), from a timer thread.
* Inside ``verify --all`` each check runs in a :meth:`ProgressReporter.stage` that knows its
  index ``i`` of ``n``: every line then starts with ``[i/n]`` and ends with the overall
  elapsed time and an overall ETA (mean duration of the finished checks times the checks left;
  a rough guide, the checks' run times differ by orders of magnitude).

The clock is injectable (``clock=``) and the heartbeat is a plain method
(:meth:`ProgressReporter.poll`) that the timer thread calls, so the cadence can be tested without
sleeping.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Any, Callable, Iterator, TextIO

__all__ = ["ProgressReporter", "format_duration", "null_progress"]


def format_duration(seconds: float) -> str:
    """``seconds`` as ``M:SS`` or ``H:MM:SS`` (``"?"`` for a negative or non-finite value).

    >>> format_duration(75.4), format_duration(3725), format_duration(float("nan"))
    ('1:15', '1:02:05', '?')
    """
    if not (seconds == seconds) or seconds < 0 or seconds == float("inf"):
        return "?"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def null_progress(done: int, total: int, label: str) -> None:
    """A progress callback that reports nothing."""


class ProgressReporter:
    """A ``progress(done, total, label)`` callback writing elapsed time and ETA to a stream.

    Parameters
    ----------
    stream
        Where to write (default ``sys.stderr``).
    enabled
        ``False``: report nothing (``--quiet``); no thread is started.
    interactive
        ``True``: a self-updating bar; ``False``: whole lines (see the module docstring).
        Default: ``stream.isatty()``.
    clock
        Monotonic clock in seconds (default :func:`time.monotonic`); injectable for tests.
    min_interval
        Piped mode: at most one step line per this many seconds (start, end and heartbeat
        lines are not limited).
    max_interval
        Piped mode: a heartbeat line when nothing was written for this many seconds while a
        check runs (at least one line a minute by default).
    heartbeat
        Start a daemon timer thread calling :meth:`poll` (default ``True``; tests call
        :meth:`poll` themselves with a fake clock).
    redraw_interval
        Terminal mode: smallest time between two redraws of the bar.
    poll_interval
        Seconds between two heartbeat polls of the timer thread.

    Examples
    --------
    >>> import io
    >>> t = [0.0]
    >>> out = io.StringIO()
    >>> rep = ProgressReporter(out, interactive=False, clock=lambda: t[0], heartbeat=False)
    >>> with rep.stage("demo"):
    ...     rep(0, 2, "first"); t[0] = 30.0; rep(1, 2, "second"); t[0] = 45.0
    >>> print(out.getvalue(), end="")
    demo: started
    demo: 0/2 first (elapsed 0:00)
    demo: 1/2 second (elapsed 0:30, ETA 0:30)
    demo: done in 0:45
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True, interactive: bool | None = None,
                 clock: Callable[[], float] = time.monotonic, min_interval: float = 10.0,
                 max_interval: float = 60.0, heartbeat: bool = True, redraw_interval: float = 0.1,
                 poll_interval: float = 1.0) -> None:
        for name, value in (("min_interval", min_interval), ("max_interval", max_interval),
                            ("redraw_interval", redraw_interval), ("poll_interval", poll_interval)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"{name} must be a number >= 0 (seconds), got {value!r}")
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be > 0 (seconds), got {poll_interval!r}")
        if max_interval < min_interval:
            raise ValueError(f"max_interval must be >= min_interval ({min_interval}), got {max_interval}")
        if not callable(clock):
            raise TypeError(f"clock must be a callable returning seconds, got {type(clock).__name__}")
        self.stream = sys.stderr if stream is None else stream
        self.enabled = bool(enabled)
        if interactive is None:
            isatty = getattr(self.stream, "isatty", None)
            try:
                interactive = bool(isatty()) if callable(isatty) else False
            except (ValueError, OSError):  # closed stream
                interactive = False
        self.interactive = bool(interactive)
        self.clock = clock
        self.min_interval = float(min_interval)
        self.max_interval = float(max_interval)
        self.redraw_interval = float(redraw_interval)
        self.poll_interval = float(poll_interval)
        self._heartbeat = bool(heartbeat)
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        # overall state (verify --all)
        self._run_start: float | None = None
        self._finished_durations: list[float] = []
        # current stage
        self._name: str | None = None
        self._index: int | None = None
        self._count: int | None = None
        self._stage_start: float | None = None
        self._last_write = 0.0
        self._announced = False
        self._lazy = False
        self._last_step_line = -float("inf")
        self._last_redraw = -float("inf")
        self._bar_width = 0
        # current phase of the check's own callbacks (a new phase when total changes or done goes back)
        self._phase_total: int | None = None
        self._phase_start = 0.0
        self._phase_done0 = 0
        self._done = 0
        self._total = 0
        self._label = ""

    # ------------------------------------------------------------------ protocol
    def __call__(self, done: int, total: int, label: str = "") -> None:
        """Record that ``done`` of ``total`` steps are finished (the check's protocol)."""
        if not self.enabled:
            return
        with self._lock:
            now = self.clock()
            if self._stage_start is None:  # used without stage(): open an anonymous one
                self._begin(None, None, None, now)
            if self._lazy and not self._announced and done <= 0:
                # a lazy stage stays silent until a step is done (or a heartbeat): a check that
                # reports "0 of n" and then refuses its options leaves only the error line
                if total != self._phase_total:
                    self._phase_total, self._phase_start, self._phase_done0 = total, now, done
                self._done, self._total, self._label = int(done), int(total), str(label)
                return
            self._announce(now)
            if total != self._phase_total or done < self._done:
                self._phase_total, self._phase_start, self._phase_done0 = total, now, done
            self._done, self._total, self._label = int(done), int(total), str(label)
            if self.interactive:
                if now - self._last_redraw >= self.redraw_interval or (total > 0 and done >= total):
                    self._draw_bar(now)
            elif now - self._last_step_line >= self.min_interval:
                self._last_step_line = now
                self._write_line(self._step_text(now), now)

    def poll(self) -> None:
        """Heartbeat: what the timer thread calls every ``poll_interval`` seconds.

        Piped mode: writes ``still running NAME (elapsed ...)`` if nothing was written for
        ``max_interval`` seconds while a stage is open.  Terminal mode: redraws the bar so
        the elapsed time moves.
        """
        if not self.enabled:
            return
        with self._lock:
            if self._stage_start is None:
                return
            now = self.clock()
            if self.interactive:
                if now - self._last_redraw >= 1.0:
                    self._draw_bar(now)
            elif now - self._last_write >= self.max_interval:
                self._announce(now)
                what = f"; last step: {self._step_core(now)}" if self._total > 0 else ""
                self._write_line(f"{self._prefix()}still running {self._name or 'check'} "
                                 f"(elapsed {format_duration(now - self._stage_start)}{what})"
                                 f"{self._overall(now)}", now)

    # ------------------------------------------------------------------ stages
    @contextlib.contextmanager
    def stage(self, name: str, index: int | None = None, count: int | None = None, *,
              lazy: bool = False) -> Iterator["ProgressReporter"]:
        """Report one check: a start line, its steps, heartbeats, an end line with its duration.

        ``index`` (1-based) and ``count`` give the ``[i/n]`` of ``verify --all``.  The end
        line says ``done`` (or ``failed`` if the block raised) and the duration; set
        :attr:`outcome` inside the block (e.g. to the check's verdict) to append it.
        ``lazy=True`` defers the start line to the first progress call or heartbeat, and
        writes no end line if nothing was written: a check refusing its options before
        any work leaves stderr to the one-line error message.
        """
        if index is not None and (count is None or not 1 <= index <= count):
            raise ValueError(f"index must be in 1..count, got index={index!r}, count={count!r}")
        self.outcome: str | None = None
        if self.enabled:
            with self._lock:
                self._begin(name, index, count, self.clock(), announce=not lazy)
                self._lazy = lazy
        self._start_thread()
        ok = False
        try:
            yield self
            ok = True
        finally:
            if self.enabled:
                with self._lock:
                    self._end(ok)

    def close(self) -> None:
        """Stop the timer thread (idempotent); call when the run is over."""
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=2.0)
        self._thread = None
        with self._lock:
            if self.enabled and self._stage_start is not None:  # anonymous stage from bare calls
                self._end(True)

    def __enter__(self) -> "ProgressReporter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _start_thread(self) -> None:
        if not (self.enabled and self._heartbeat) or self._thread is not None:
            return
        self._stop.clear()

        def beat() -> None:
            while not self._stop.wait(self.poll_interval):
                try:
                    self.poll()
                except (ValueError, OSError):  # stream closed under us
                    return

        self._thread = threading.Thread(target=beat, name="tfapprox-progress", daemon=True)
        self._thread.start()

    def _begin(self, name: str | None, index: int | None, count: int | None, now: float,
               announce: bool = True) -> None:
        if self._run_start is None:
            self._run_start = now
        self._name, self._index, self._count, self._stage_start = name, index, count, now
        self._phase_total, self._done, self._total, self._label = None, 0, 0, ""
        self._last_step_line = -float("inf")
        self._last_redraw = -float("inf")
        self._last_write = now
        self._announced = False
        self._lazy = False
        if announce:
            self._announce(now)

    def _announce(self, now: float) -> None:
        """The stage's start line (piped mode), once."""
        if self._announced:
            return
        self._announced = True
        if not self.interactive and self._name is not None:
            self._write_line(f"{self._prefix()}{self._name}: started{self._overall(now)}", now)

    def _end(self, ok: bool) -> None:
        now = self.clock()
        took = now - (self._stage_start if self._stage_start is not None else now)
        self._finished_durations.append(took)
        outcome = getattr(self, "outcome", None)
        self._stage_start = None  # finished: the overall ETA counts it in _finished_durations only
        if self.interactive:
            self._clear_bar()
        if self._announced and (self._name is not None or self.interactive):
            self._write_line(f"{self._prefix()}{self._name or 'check'}: {'done' if ok else 'failed'} in "
                             f"{format_duration(took)}{' - ' + outcome if outcome else ''}{self._overall(now)}", now)
        self._name = None

    def _prefix(self) -> str:
        return f"[{self._index}/{self._count}] " if self._index is not None else ""

    def _eta(self, now: float) -> float | None:
        steps = self._done - self._phase_done0
        if self._total <= 0 or steps <= 0:
            return None
        return (now - self._phase_start) / steps * max(self._total - self._done, 0)

    def _step_core(self, now: float) -> str:
        return f"{self._done}/{self._total} {self._label}".rstrip()

    def _step_text(self, now: float) -> str:
        eta = self._eta(now)
        timing = f"elapsed {format_duration(now - self._stage_start)}"
        if eta is not None:
            timing += f", ETA {format_duration(eta)}"
        head = f"{self._name}: " if self._name else ""
        return f"{self._prefix()}{head}{self._step_core(now)} ({timing}){self._overall(now)}"

    def _overall(self, now: float) -> str:
        """`` | overall elapsed ..., ETA ~...`` inside ``verify --all`` (empty otherwise)."""
        if self._count is None or self._index is None or self._run_start is None:
            return ""
        text = f" | overall {format_duration(now - self._run_start)} elapsed"
        finished = self._finished_durations
        if finished:
            mean = sum(finished) / len(finished)
            current = now - self._stage_start if self._stage_start is not None else 0.0
            left = max(mean * (self._count - len(finished)) - current, 0.0)
            text += f", ETA ~{format_duration(left)}"
        return text

    def _write_line(self, text: str, now: float) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
        self._last_write = now

    def _draw_bar(self, now: float) -> None:
        width = 24
        frac = min(max(self._done / self._total, 0.0), 1.0) if self._total > 0 else 0.0
        filled = int(width * frac)
        bar = f"[{'#' * filled}{'.' * (width - filled)}] " if self._total > 0 else ""
        text = f"{bar}{self._step_text(now)}" if self._total > 0 else (
            f"{self._prefix()}{self._name or 'check'} (elapsed {format_duration(now - self._stage_start)})"
            f"{self._overall(now)}")
        text = text[:160]
        pad = max(self._bar_width - len(text), 0)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._bar_width = len(text)
        self._last_redraw = now
        self._last_write = now

    def _clear_bar(self) -> None:
        if self._bar_width:
            self.stream.write("\r" + " " * self._bar_width + "\r")
            self.stream.flush()
            self._bar_width = 0
