"""The paper reproduced: Table I (:mod:`.evaluate`), its claims checked (:mod:`.claims`), Figures 1-9
(:mod:`.figures`, :mod:`.diagrams`) and the photos they show (:mod:`.picks`).
"""
