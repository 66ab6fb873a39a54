"""The cost model: pure functions over numpy arrays (FLOPs, bytes, eFLOPs, seconds)."""
