"""Load the champion from the registry and predict three real wines.

    uv run python -m wine_tracking.predict
    uv run python -m wine_tracking.predict --alias challenger

`models:/wine-classifier@champion` names whatever version holds the alias
right now: promote another version and the same line loads it, with no code
change. `mlflow.pyfunc.load_model` returns the generic pyfunc interface
(`predict(DataFrame)`), the one every MLflow model has whatever its library.
"""

from __future__ import annotations

import argparse

import mlflow
import pandas as pd
from mlflow.pyfunc import PyFuncModel

from wine_tracking import MODEL_NAME, connect
from wine_tracking.data import CLASS_NAMES, TARGET, load_frame

# One wine of each class (rows 0, 60 and 130 of the data set).
SAMPLE_ROWS = [0, 60, 130]


def model_uri(alias: str = "champion", name: str = MODEL_NAME) -> str:
    return f"models:/{name}@{alias}"


def load(alias: str = "champion", name: str = MODEL_NAME) -> PyFuncModel:
    connect()
    return mlflow.pyfunc.load_model(model_uri(alias, name))


def sample() -> pd.DataFrame:
    return load_frame().iloc[SAMPLE_ROWS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alias", default="champion")
    parser.add_argument("--name", default=MODEL_NAME)
    args = parser.parse_args(argv)

    model = load(args.alias, args.name)
    wines = sample()
    # The signature's columns, in its order; the target is not an input.
    predicted = model.predict(wines.drop(columns=TARGET))
    print(f"{model_uri(args.alias, args.name)} = model {model.metadata.model_id}")
    print(f"from run {model.metadata.run_id}")
    for row, (truth, guess) in enumerate(zip(wines[TARGET], predicted, strict=True)):
        print(
            f"wine {SAMPLE_ROWS[row]:>3}: predicted {CLASS_NAMES[guess]}, true {CLASS_NAMES[truth]}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
