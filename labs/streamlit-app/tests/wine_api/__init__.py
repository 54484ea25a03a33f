"""Serve the course's wine classifier over HTTP with FastAPI.

`wine_api.train` trains and saves the model, `wine_api.schemas` defines the
request and response bodies, and `wine_api.app` is the web service.
"""

__version__ = "0.1.0"
