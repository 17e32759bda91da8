"""The ensemble-weight explorer: the data bundle the book's page reads and the reference computation
(:mod:`.bundle`), the combination rules it offers (:mod:`.rules`) and the Jupyter widget (:mod:`.widget`).
"""
