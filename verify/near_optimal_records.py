"""Recorded near-optimal kernels (placeholder until generated)."""
RNN: dict = {}
HEADS: dict = {}
