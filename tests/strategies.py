"""The shared hypothesis strategies of the test suite: :mod:`tfapprox.testing.strategies`.

The strategies ship with the package (``from tfapprox.testing import strategies``) so that users test
their own constructions the same way; the test modules keep importing them as ``from strategies import
...`` (pytest puts ``tests/`` on the path, see ``pyproject.toml``).  Add new strategies to the module of
``tfapprox/testing/strategies/`` that owns the part of the toolkit they exercise.
"""

from tfapprox.testing.strategies import *  # noqa: F401,F403
from tfapprox.testing.strategies import __all__  # noqa: F401
