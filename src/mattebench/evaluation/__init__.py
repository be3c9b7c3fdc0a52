"""Scoring prediction files against ground-truth files (`python -m mattebench.evaluate`).

`cases`: which files are scored together; `score`: reading and scoring them.
"""
