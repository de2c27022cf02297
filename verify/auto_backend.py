"""The backend a model needs: ``tfapprox eval --backend auto``.

The constructions' weights often cancel so badly that float64 returns meaningless numbers
(the realised Lemma F.1/F.4 kernels need about ``0.77 H`` digits);
:meth:`tfapprox.verify.model.Model.run` then refuses float64 with a
:class:`~tfapprox.verify.model.PrecisionError`.  :func:`choose_backend` makes the choice
``eval`` needs by default: ``"float64"`` when float64 passes that very test (finite outputs,
estimated rounding error within ``float64_tol``, no rounding input of an FFN with precision
near a boundary), otherwise ``"mpmath"``, to be run with ``dps=None`` so that ``Model.run``
uses the digits the model needs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tfapprox.theory.validation import require_real

from .model import Model, PrecisionError

__all__ = ["choose_backend", "backend_choice"]


def backend_choice(model: Model, X: Any = None, *, float64_tol: float = 1e-8,
                   **run_options: Any) -> tuple[str, str]:
    """:func:`choose_backend` with the reason: ``(backend, reason)``.

    ``reason`` is ``""`` for float64 and the :class:`~tfapprox.verify.model.PrecisionError`
    message for mpmath.  Other errors of the float64 run (bad input, bad ``past``) propagate.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a tfapprox Model, got {type(model).__name__}")
    require_real("float64_tol", float64_tol, minimum=0.0, strict_minimum=True)
    if X is None:
        X = np.ones((1, 2, model.spec.input_dim))  # a probe window: two tokens of ones
    try:
        model.run(X, backend="float64", float64_tol=float64_tol, **run_options)
    except PrecisionError as exc:
        return "mpmath", str(exc)
    return "float64", ""


def choose_backend(model: Model, X: Any = None, *, float64_tol: float = 1e-8, **run_options: Any) -> str:
    """``"float64"`` if ``model.run(X, backend="float64")`` passes its precision test, else ``"mpmath"``.

    Parameters
    ----------
    model
        The model to run.
    X
        The window(s) to run (as for :meth:`Model.run`); the estimate of the float64
        rounding error depends on the input, so pass the window you will evaluate.
        Default: a probe window of two tokens of ones.
    float64_tol
        Largest acceptable estimated float64 rounding error (as in :meth:`Model.run`).
    **run_options
        Further options of the run to decide for (``past``, ``pad``, ``positions``), passed
        to :meth:`Model.run`.

    Returns
    -------
    str
        ``"float64"`` or ``"mpmath"``; run ``"mpmath"`` with ``dps=None``: the model's
        own required digits.

    Examples
    --------
    >>> from tfapprox.api import build_model
    >>> choose_backend(build_model("thm3.1", heads=4, lags=[1]))
    'float64'
    >>> choose_backend(build_model("thm3.1", heads=64, lags=[1, 5]))
    'mpmath'
    """
    return backend_choice(model, X, float64_tol=float64_tol, **run_options)[0]
