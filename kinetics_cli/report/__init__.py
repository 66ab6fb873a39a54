"""The presentation layer: every table, JSON document, plot and progress bar the commands show.

One module per command family (plan, roofline, isocost, cost, calibrate, catalog) on top of the
shared console and plotting helpers. It sits between the library and the CLI: engine/, accuracy/,
planner/ and calibrate/ never import it (tests/test_report_layering.py checks).
"""
