"""colorlib: a reproduction of "Colorizing grayscale images using a CNN" (Klefbom & Mjöberg).

The package holds every piece of logic the notebooks use: Lab transforms (:mod:`colorlib.lab`),
photo loading and dataset splits (:mod:`colorlib.data`), the network (:mod:`colorlib.model`),
training (:mod:`colorlib.train`), ensembles (:mod:`colorlib.ensemble`), metrics
(:mod:`colorlib.metrics`) and the command line (:mod:`colorlib.cli`).
"""

__version__ = "0.1.0"

# The model names used everywhere (DESIGN.md): trained models, then equal-weight ensembles.
TRAINED_MODELS = ("blue", "yellow", "green", "by", "bgy", "baseline")
COMBINED_MODELS = {"by-combined": ("blue", "yellow"), "bgy-combined": ("blue", "green", "yellow")}
ALL_MODELS = TRAINED_MODELS + tuple(COMBINED_MODELS)
SETS = TRAINED_MODELS + ("validation",)
