"""L0: published facts as data files with citations, and their typed loader."""
