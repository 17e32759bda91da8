"""colorlib: a reproduction of "Colorizing grayscale images using a CNN" (Klefbom & Mjöberg).

Grouped by concern, each layer importing only the ones above it:

- the core, flat: :mod:`~colorlib.lab`, :mod:`~colorlib.model`, :mod:`~colorlib.train` (with :mod:`~colorlib.steps`,
  :mod:`~colorlib.device`), :mod:`~colorlib.checkpoint`, :mod:`~colorlib.ensemble` and
  :mod:`~colorlib.combination_rules` (blending members' predictions), :mod:`~colorlib.errors`, :mod:`~colorlib.files`;
- :mod:`colorlib.data`: photos, hygiene, the manifest and its splits;
- :mod:`colorlib.scoring`: metrics, believability, the trivial references, intervals over photos;
- :mod:`colorlib.paper`: the paper's Table I, claims, figures, diagrams and picked photos;
- :mod:`colorlib.explorer`: the ensemble-weight explorer's bundle, rules and Jupyter widget;
- :mod:`colorlib.study`: the study beyond the paper;
- :mod:`colorlib.pages`: what every notebook page does around the library (checks, provenance, Markdown);
- :mod:`colorlib.workflow`: what defines a build and its folder, read by the Snakemake workflow.

The command line (:mod:`colorlib.cli`, with :mod:`colorlib.colorize`) sits on top; nothing imports it.
"""

__version__ = "0.1.0"

# The model names used everywhere: trained models, then the paper's equal-weight ensembles.
TRAINED_MODELS = ("blue", "yellow", "green", "by", "bgy", "baseline")
COMBINED_MODELS = {"by-combined": ("blue", "yellow"), "bgy-combined": ("blue", "green", "yellow")}
ALL_MODELS = TRAINED_MODELS + tuple(COMBINED_MODELS)
SETS = TRAINED_MODELS + ("validation",)
