"""The results page (notebooks/results.ipynb): Table I, the claims, the findings, the trade-off of error
against colourfulness and Figures 1-9 from one evaluation of the six checkpoints, and the files the
other pages read (each piece is computed in the modules it imports; this one puts them together, as
colorlib.study.page does for the study's page).
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from .. import TRAINED_MODELS, __version__
from ..checkpoint import checkpoint_path, load_checkpoint, load_model
from ..data import manifest_hash
from ..files import atomic_write_text
from ..lab import grayscale
from ..pages import check_generated_dir, check_profile, resolve_inputs, training_table
from . import GENERATED_FILES, figures, picks, results, tradeoff
from .evaluate import evaluate


class ResultsPage:
    """One evaluation of the six models, the photos the page shows and the figures and views composed from them."""

    def __init__(
        self,
        manifest: str | Path,
        checkpoints: str | Path,
        data_dir: str | Path,
        generated_dir: str | Path,
        profile: str,
    ):
        """The page for the notebook's parameters, each checked first: a mistake is a one-line UserError."""
        self.profile = check_profile("results", profile)
        check_generated_dir(generated_dir)
        self.manifest, self.data_dir = resolve_inputs(manifest, data_dir, checkpoints)
        self.checkpoints = Path(checkpoints)
        self.evaluation = evaluate(dict(self.manifest), self.data_dir, self.checkpoints)
        self.states = {m: load_checkpoint(checkpoint_path(self.checkpoints, m)) for m in TRAINED_MODELS}
        self.model, _ = load_model(checkpoint_path(self.checkpoints, "baseline"))  # Figures 2-4 trace it
        self.show, self.show_rule = picks.pick_showcase(self.evaluation)  # the photo of Figures 1 and 3-8
        self.dull, self.dull_rule = picks.pick_desaturated(self.evaluation, exclude=self.show)  # Figure 9's
        # what the page and the other pages show, as results.json keeps it (read back: the views are of the data)
        self.results = results.loads(results.dumps(results.results(self.evaluation)))
        self.rows, self.claims = self.results["table1"], self.results["claims"]
        self.snippets = results.snippets(self.results)

    @property
    def photo(self):
        """The showcase validation photo (uint8 RGB at its own resolution)."""
        return self.evaluation.validation.photos[self.show]

    def colorized(self, model: str, index: int | None = None):
        """A validation photo (the showcase one by default) colorized by `model`, at its own resolution."""
        return picks.colorized(self.evaluation, model, self.show if index is None else index)

    def summary(self) -> str:
        """How many photos, at which size, and the rules that picked the photos shown."""
        photos = f"{len(self.evaluation.validation.names)} validation photos"
        return f"{photos}, working size {self.model.config.image_size}.\n{self.show_rule}\n{self.dull_rule}"

    # --- colorized validation photos: Figures 5-9 and the front page's hero (Figures 1-4 and Table I are drawn
    # from `photo`, `model` and `rows` by colorlib.paper.figures, .diagrams and .evaluate) ---------------------
    def row(self, models: tuple[str, ...]) -> Figure:
        """The showcase photo colorized by each of `models`, side by side (Figures 6-8)."""
        return figures.prediction_row([self.colorized(m) for m in models], list(models))

    def fig5(self) -> Figure:
        photo = self.photo
        return figures.prediction_row(
            [photo, grayscale(photo), self.colorized("baseline")], ["Original", "Grayscale (model input)", "baseline"]
        )

    def fig6(self) -> Figure:
        return self.row(("blue", "yellow", "green"))

    def fig7(self) -> Figure:
        return self.row(("by", "bgy"))

    def fig8(self) -> Figure:
        return self.row(("by-combined", "bgy-combined"))

    def fig9(self) -> Figure:
        models = ("baseline", "by-combined", "bgy-combined")
        return figures.fig9_grid(
            self.evaluation.validation.photos[self.dull], *(self.colorized(m, self.dull) for m in models)
        )

    def hero(self) -> Figure:
        """The front page's picture: the grayscale input, the two combined models and the original."""
        photo = self.photo
        return figures.prediction_row(
            [grayscale(photo), self.colorized("by-combined"), self.colorized("bgy-combined"), photo],
            ["grayscale input", "by-combined", "bgy-combined", "original"],
        )

    # --- the trade-off and the findings: views of the results (`snippets` has the claims table) ---------
    def trade_off(self) -> Figure:
        """Error against colourfulness on the test photos, the boosted baseline as a curve (the front page's answer)."""
        return tradeoff.figure(self.results["tradeoff"])

    def trade_off_findings(self) -> str:
        return self.snippets["trade-off.md"].rstrip("\n")

    def findings(self) -> str:
        return self.snippets["findings.md"].rstrip("\n")

    def loss_curves(self) -> Figure:
        return figures.loss_curve({m: s["losses"] for m, s in self.states.items()})

    def provenance(self) -> str:
        """How each model was trained (a Markdown table from its checkpoint)."""
        return training_table(self.states, self.profile, manifest_hash(self.manifest))

    def versions(self) -> str:
        n = len(self.evaluation.validation.names)
        return f"colorlib {__version__}; validation photos: {n}; photo folder: {self.data_dir}"

    def write_files(self, folder: str | Path) -> list[Path]:
        """results.json, the Markdown rendered from it, the hero image and the trade-off figure, into `folder`."""
        folder = check_generated_dir(folder)
        folder.mkdir(parents=True, exist_ok=True)
        results.write(folder, self.results)
        for name, text in self.snippets.items():
            atomic_write_text(folder / name, text)
        figures.save_figure(self.hero(), folder / "hero.png")
        figures.save_figure(self.trade_off(), folder / "trade-off.png")
        return [folder / name for name in GENERATED_FILES]
