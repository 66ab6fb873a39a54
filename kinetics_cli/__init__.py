"""kinetics: a deployment planner for LLM reasoning inference under the Kinetics cost model."""

__version__ = "0.1.0"

__all__ = ["__version__"]
