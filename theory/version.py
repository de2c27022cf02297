"""The tfapprox version (one source: ``tfapprox.__version__``, the reports and the sweeps read it here)."""

__version__ = "0.1.0"
