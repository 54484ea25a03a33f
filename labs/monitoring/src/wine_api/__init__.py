"""The course's wine classifier API, instrumented for monitoring.

`wine_api.train` trains and saves the model, `wine_api.schemas` defines the
request and response bodies and `wine_api.app` is the web service, as in the
model-serving lab. New here: `wine_api.metrics` (Prometheus metrics),
`wine_api.logs` (JSON logs with request ids), `wine_api.simulate` (seeded
production batches, with and without drift), `wine_api.drift` (the drift
job: PSI and KS per feature), `wine_api.traffic` (sends requests) and
`wine_api.quality` (accuracy once the labels arrive).
"""

__version__ = "0.1.0"
