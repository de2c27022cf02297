"""tfapprox.verify"""
