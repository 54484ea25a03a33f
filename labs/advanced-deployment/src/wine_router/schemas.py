"""The request and response bodies, shared by the backends and the router.

`WineFeatures` is the contract of module 03's wine API, unchanged: a client
written for that API works against every model version here. The responses
only *add* fields (`model_name`, `registry_version`, and the router's
`variant`): adding an optional field is backward compatible, renaming or
removing one is not.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WineFeatures(BaseModel):
    """The 13 chemical measurements of one wine (bounds reject impossible values)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    alcohol: float = Field(ge=0, le=100)
    malic_acid: float = Field(ge=0, le=100)
    ash: float = Field(ge=0, le=100)
    alcalinity_of_ash: float = Field(ge=0, le=1000)
    magnesium: float = Field(ge=0, le=10_000)
    total_phenols: float = Field(ge=0, le=100)
    flavanoids: float = Field(ge=0, le=100)
    nonflavanoid_phenols: float = Field(ge=0, le=100)
    proanthocyanins: float = Field(ge=0, le=100)
    color_intensity: float = Field(ge=0, le=1000)
    hue: float = Field(ge=0, le=100)
    od280_od315_of_diluted_wines: float = Field(ge=0, le=100)
    proline: float = Field(ge=0, le=100_000)


FEATURES: list[str] = list(WineFeatures.model_fields)


class PredictionResponse(BaseModel):
    """A backend's answer. The first four fields are module 03's response."""

    class_id: int
    class_name: str
    probabilities: dict[str, float]
    model_version: str = Field(description="The model's semantic version, e.g. 1.1.0")
    model_name: str = Field(description="The registry name, e.g. wine")
    registry_version: str = Field(description="The registry's immutable version number, e.g. 2")


class ModelInfo(BaseModel):
    """What a backend knows about one model version, without loading it."""

    name: str
    registry_version: str
    model_version: str
    algorithm: str
    test_accuracy: float
    sha256: str
    loaded: bool
