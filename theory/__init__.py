"""tfapprox.theory"""
