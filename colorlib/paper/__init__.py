"""The paper reproduced: Table I (:mod:`.evaluate`), its claims checked (:mod:`.claims`), Figures 1-9
(:mod:`.figures`, :mod:`.diagrams`) and the photos they show (:mod:`.picks`).
"""

# Table I of Klefbom & Mjöberg: validation MSE of normalised ab, one run per model.
PAPER_TABLE_I = {
    "blue": 0.27795305009931326,
    "yellow": 0.03527559107169509,
    "green": 0.025983819738030434,
    "by": 0.023837938671931624,
    "bgy": 0.019840738968923688,
    "baseline": 0.13707154616713524,
    "by-combined": 0.015555263729766011,
    "bgy-combined": 0.014605537406168878,
}

# What the results page writes for the book's other pages: the results as data, the Markdown rendered
# from them (colorlib.paper.results.snippets) and two pictures (the workflow declares each one).
RESULTS_FILE = "results.json"
SNIPPETS = ("table1.md", "claims.md", "findings.md", "trade-off.md")
GENERATED_FILES = (RESULTS_FILE, *SNIPPETS, "hero.png", "trade-off.png")
