"""Testing support for tfapprox users: :mod:`tfapprox.testing.strategies` (hypothesis strategies).

Import the strategies with ``from tfapprox.testing import strategies`` (needs ``hypothesis``).
"""
