"""tfapprox.constructions"""
