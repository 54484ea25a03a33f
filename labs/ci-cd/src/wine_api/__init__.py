"""The course's wine classifier, with what its CI/CD pipeline runs.

`wine_api.train` trains a candidate model and writes its metrics,
`wine_api.gate` decides whether the candidate may replace the champion, and
`wine_api.app` (with `wine_api.schemas`) is the web service the image runs.
"""

__version__ = "0.2.0"
