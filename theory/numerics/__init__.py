"""Certified numerics shared by the bounds, constructions and checks (one idea per module).

Modules (see docs/architecture.md): double-double arithmetic, the one ``Enclosure`` type and
outward rounding, certified root isolation (python-flint), Euler-Maclaurin / Hurwitz-zeta tail
enclosures, the l1 / minimax linear-programming helper.  This package imports nothing of
tfapprox outside ``tfapprox.theory``.
"""
