"""Calibration: time kernels on a machine, fit the hardware model to them, check it held out.

Backends (numpy on any CPU, torch on a CUDA GPU) time the kernels of `kernels.py`; `fit.py`
fits per-class efficiencies and overheads to the roofline of engine.timing; `check.py` and
`reference.py` predict measured and published figures with a profile. docs/calibration.md.
"""
