"""tfapprox: constructive Transformer approximation theory (Wang & E, NeurIPS 2024)."""

__version__ = "0.1.0"
