"""colorlib: a reproduction of "Colorizing grayscale images using a CNN" (Klefbom & Mjöberg).

The package holds every piece of logic the notebooks use, in the order the pipeline runs:
photos -> manifest (:mod:`colorlib.data`) -> checkpoints (:mod:`colorlib.lab`,
:mod:`colorlib.model`, :mod:`colorlib.train`, :mod:`colorlib.checkpoint`) -> scores
(:mod:`colorlib.ensemble`, :mod:`colorlib.metrics`, :mod:`colorlib.evaluate`) -> figures and
pages (:mod:`colorlib.figures`, :mod:`colorlib.diagrams`, :mod:`colorlib.claims`,
:mod:`colorlib.picks`, :mod:`colorlib.pages`, :mod:`colorlib.markdown`, :mod:`colorlib.explorer`,
:mod:`colorlib.explorer_rules`) -> the study beyond the paper (:mod:`colorlib.study`). Around
them: what defines a build and its folder (:mod:`colorlib.variant`, used by the workflow) and the
notebooks filled in for Jupyter (:mod:`colorlib.notebooks`). The command line (:mod:`colorlib.cli`)
sits on top; nothing in the package imports it.
"""

__version__ = "0.1.0"

# The model names used everywhere: trained models, then the paper's equal-weight ensembles.
TRAINED_MODELS = ("blue", "yellow", "green", "by", "bgy", "baseline")
COMBINED_MODELS = {"by-combined": ("blue", "yellow"), "bgy-combined": ("blue", "green", "yellow")}
ALL_MODELS = TRAINED_MODELS + tuple(COMBINED_MODELS)
SETS = TRAINED_MODELS + ("validation",)
