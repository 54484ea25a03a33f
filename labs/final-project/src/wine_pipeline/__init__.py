"""The course's capstone: the wine classifier from training to production.

Each stage is a module with a command line, so a scheduler (cron, a
Kubernetes CronJob, a CI workflow) can run it on its own:

    data      the wine data, the seeded drift simulation, the prediction log
    train     train, track in MLflow, register a new model version
    gate      evaluate a candidate against the champion; promote on pass
    serve     the FastAPI service: serves the champion, exports metrics
    drift     PSI per feature of recent traffic against the training data
    pipeline  the retraining trigger: drift -> train -> gate -> promote -> verify
"""

__version__ = "0.1.0"
