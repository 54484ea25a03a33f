"""Request and response bodies of the wine API (pydantic v2).

These classes are the API's contract: FastAPI validates every request against
them, rejects what does not fit with a 422, and publishes them as the OpenAPI
schema at /openapi.json.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_BATCH_SIZE = 1000
# A full batch of 1000 wines is about 290 kB of JSON; 1 MiB leaves room for
# extra whitespace and long decimals, and stops a multi-gigabyte upload early.
MAX_BODY_BYTES = 1024 * 1024

# One real row of the wine data (class_0), used as the example in the docs.
EXAMPLE_WINE = {
    "alcohol": 14.23,
    "malic_acid": 1.71,
    "ash": 2.43,
    "alcalinity_of_ash": 15.6,
    "magnesium": 127.0,
    "total_phenols": 2.8,
    "flavanoids": 3.06,
    "nonflavanoid_phenols": 0.28,
    "proanthocyanins": 2.29,
    "color_intensity": 5.64,
    "hue": 1.04,
    "od280_od315_of_diluted_wines": 3.92,
    "proline": 1065.0,
}


class WineFeatures(BaseModel):
    """The 13 chemical measurements of one wine.

    The bounds reject impossible values (a negative concentration, 150 %
    alcohol), not unusual ones: a wine outside the training range must still
    reach the model, or monitoring never sees that the inputs have drifted.
    """

    model_config = ConfigDict(
        extra="forbid",  # a misspelt field is an error, not silently ignored
        strict=True,  # "13.2" (a string) is not a number; neither is true
        allow_inf_nan=False,
        json_schema_extra={"examples": [EXAMPLE_WINE]},
    )

    alcohol: float = Field(ge=0, le=100, description="Alcohol, % by volume (training: 11.0-14.8)")
    malic_acid: float = Field(ge=0, le=100, description="Malic acid (training: 0.74-5.80)")
    ash: float = Field(ge=0, le=100, description="Ash (training: 1.36-3.23)")
    alcalinity_of_ash: float = Field(
        ge=0, le=1000, description="Alcalinity of ash (training: 10.6-30.0)"
    )
    magnesium: float = Field(ge=0, le=10_000, description="Magnesium (training: 70-162)")
    total_phenols: float = Field(ge=0, le=100, description="Total phenols (training: 0.98-3.88)")
    flavanoids: float = Field(ge=0, le=100, description="Flavanoids (training: 0.34-5.08)")
    nonflavanoid_phenols: float = Field(
        ge=0, le=100, description="Nonflavanoid phenols (training: 0.13-0.66)"
    )
    proanthocyanins: float = Field(
        ge=0, le=100, description="Proanthocyanins (training: 0.41-3.58)"
    )
    color_intensity: float = Field(
        ge=0, le=1000, description="Colour intensity (training: 1.3-13.0)"
    )
    hue: float = Field(ge=0, le=100, description="Hue (training: 0.48-1.71)")
    od280_od315_of_diluted_wines: float = Field(
        ge=0, le=100, description="OD280/OD315 of diluted wines (training: 1.27-4.00)"
    )
    proline: float = Field(ge=0, le=100_000, description="Proline (training: 278-1680)")


class BatchRequest(BaseModel):
    """Several wines in one request: one HTTP round trip, one vectorised model call."""

    model_config = ConfigDict(extra="forbid")

    # The upper bound protects the server: without it one request could ask
    # for a million predictions and hold a worker (and its memory) for minutes.
    instances: list[WineFeatures] = Field(min_length=1, max_length=MAX_BATCH_SIZE)


class ClassPrediction(BaseModel):
    """The model's answer for one wine."""

    class_id: int = Field(description="Index of the predicted class (0, 1 or 2)")
    class_name: str = Field(description="Name of the predicted class, e.g. class_0")
    probabilities: dict[str, float] = Field(description="Probability of each class; sums to 1")


class PredictionResponse(ClassPrediction):
    """Answer to POST /predict."""

    model_version: str


class BatchResponse(BaseModel):
    """Answer to POST /predict/batch: predictions in the order of the instances."""

    model_version: str
    predictions: list[ClassPrediction]


class HealthResponse(BaseModel):
    status: str = "ok"


class ReadyResponse(BaseModel):
    status: str = "ready"
    model_version: str


class ErrorResponse(BaseModel):
    """Body of every error this API raises itself (503, 500)."""

    detail: str


class NotReadyResponse(BaseModel):
    """Answer to GET /ready while the model is not loaded (status 503)."""

    status: str = "not ready"
    detail: str
