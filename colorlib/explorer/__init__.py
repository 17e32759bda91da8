"""The ensemble-weight explorer, by concern:

- :mod:`.contract`: every constant the book's page and the Jupyter widget share (scales,
  quantisation, the rules of :data:`colorlib.rules.RULES` and their words, the vividness range, presets,
  element ids, captions, blank value, words); the bundle carries it;
- :mod:`.reference`: the computation the page reproduces (quantisation, upsampling, blend, the
  vividness step, picture, the exact MSE of any blend at any vividness);
- :mod:`.bundle`: the validation photos with every model's prediction, packed for the page;
- :mod:`.rules`: how the other rules combine the stored maps, and the temperature stops;
- :mod:`.html`: the page's markup; ``book/_static/explorer-core.js``, ``explorer.js`` and
  ``explorer-own.js`` bring it to life;
- :mod:`.own`: a reader's own photo, colorized by every model and blended (colorize's way);
- :mod:`.web`: the models as ONNX and onnxruntime-web's files, so the page colorizes that photo itself;
- :mod:`.widget`: the same explorer as a Jupyter widget.
"""
