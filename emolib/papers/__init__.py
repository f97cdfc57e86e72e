"""Each paper's experiment code: models, training and scoring as functions with explicit
arguments, one module per paper (the notebooks keep the narrative and the parameters).

* :mod:`emolib.papers.won2021` — notebook 01_won2021.
"""
