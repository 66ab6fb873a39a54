"""Accuracy of test-time strategies: user evaluations, bundled priors, coverage estimators."""
