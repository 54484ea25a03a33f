"""The course's wine classifier behind an HTTP API, condensed for this lab.

`wine_api.train` trains and saves the model; `wine_api.app` serves it. The
full API, with every error handler explained, is the lab of module 03
(model serving); this copy keeps its contract: the same endpoints, request
fields and response bodies.
"""

__version__ = "0.1.0"
