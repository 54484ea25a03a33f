"""A router for A/B tests, shadow traffic and canary releases, in front of
backends that serve several versions of the course's wine classifier."""

__version__ = "0.1.0"
