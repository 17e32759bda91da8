"""The ensemble-weight explorer, by concern:

- :mod:`.contract`: every constant and word the book's page and the Jupyter widget share (the temperature
  stops of the rules of :data:`colorlib.combination_rules.RULES` among them);
- :mod:`.blending`: the computation the page reproduces (quantisation, blend, the other rules over the
  stored maps, vividness, picture, MSE);
- :mod:`.bundle`: the validation photos with every model's prediction, packed for the page;
- :mod:`.html`: the page's markup; ``book/_static/explorer-core.js``, ``explorer.js`` and
  ``explorer-own.js`` bring it to life;
- :mod:`.own`: a reader's own photo, colorized by every model and blended (colorize's way);
- :mod:`.web`: the models as ONNX and onnxruntime-web's files, so the page colorizes that photo itself;
- :mod:`.widget`: the same explorer as a Jupyter widget.
"""
