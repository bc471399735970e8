"""Sphinx configuration for the croton documentation."""

import sys
from pathlib import Path

# Let autodoc import croton and its built-in backends from the source tree,
# so the documentation builds without installing the package.
_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_ROOT / "backends"))
sys.path.insert(0, str(_ROOT / "core"))

project = "croton"
author = "the croton developers"
copyright = "the croton developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
]

# numpydoc-style docstrings
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
}
autodoc_member_order = "bysource"

# The tutorial's ``>>>`` blocks are run by ``make doctest`` and by
# ``pytest --doctest-glob='*.rst' docs/``.
doctest_global_setup = """
import numpy as np
import croton
import croton.tensor as T
"""

root_doc = "index"
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build"]

html_theme = "alabaster"
html_title = "croton"
