"""Run the checks of ``tfapprox verify`` from Python: :func:`run_check` and :func:`list_checks`.

Every check reproduces a result of Wang & E 2024 (arXiv 2402.00522) and takes typed options (a
frozen dataclass per check, :mod:`tfapprox.verify.check_config`): the keyword arguments of
:func:`run_check` are the check's command-line options with ``_`` for ``-`` (``--n-max`` is
``n_max``), lists as Python lists (``heads=[32, 64]``) and kernel families as ``"lin"``/``"log"``
or :data:`tfapprox.theory.families.LIN`/``LOG``.  The result is the same
:class:`~tfapprox.verify.registry.CheckResult` the command line prints (``.to_json()`` is its JSON).

>>> from tfapprox.checks import list_checks
>>> "thm3.1" in list_checks()
True
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from tfapprox.verify.registry import CheckResult, all_checks, get_check

__all__ = ["run_check", "list_checks", "check_options"]


def run_check(name: str, *, progress: Callable[[int, int, str], None] | None = None, **options: Any) -> CheckResult:
    """Run the check ``name`` with keyword ``options`` (the defaults of ``tfapprox verify NAME`` otherwise).

    Parameters
    ----------
    name
        A registered check (:func:`list_checks`), e.g. ``"thm3.1"`` (Theorem 3.1).
    progress
        Optional callback ``progress(done, total, label)``.
    **options
        The check's options (:func:`check_options`).

    Returns
    -------
    CheckResult
        The verdict, rows, fit and notes (``result.to_json()``: the JSON of ``verify NAME --json``).

    Raises
    ------
    ValueError
        Unknown check, or an option value out of range (naming the option, the value and what is allowed).
    TypeError
        Unknown option, or an option of the wrong type.

    Examples
    --------
    >>> from tfapprox.checks import run_check
    >>> r = run_check("lemma-f1", heads=[16, 32, 64], lags=[1])
    >>> r.passed, [row["H"] for row in r.rows]
    (True, [16, 32, 64])
    >>> run_check("lemma-f1", head=[16])
    Traceback (most recent call last):
    ...
    TypeError: unknown option 'head' for LemmaF1Config; allowed: heads, lags, alpha, gamma, n_max, min_order, window
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a check name (a string), got {name!r}")
    check = get_check(name)
    config = check.make_config(**options)
    return check.run(config, progress if progress is not None else (lambda done, total, label: None))


def list_checks() -> dict[str, str]:
    """Every registered check: name -> one-line summary (registration order)."""
    return {c.name: c.summary for c in all_checks()}


def check_options(name: str) -> dict[str, dict[str, Any]]:
    """The options of check ``name``: option -> ``{"default": ..., "help": ...}``.

    >>> rpe = check_options("thm3.1")["rpe"]
    >>> rpe["default"]
    'lin'
    """
    check = get_check(name)
    if check.config is None:
        raise TypeError(f"check {name!r} has no typed options")
    return {f.name: {"default": f.default, "help": f.metadata.get("help", "")}
            for f in dataclasses.fields(check.config)}
