"""Accuracy of test-time strategies: user evaluations, bundled measurements and priors, coverage estimators."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from kinetics_cli.accuracy.base import AccuracySource, Outcome, Setting


def available_tasks() -> list[str]:
    """Names of the bundled task profiles (accuracy.priors.available_tasks, imported on use)."""
    from kinetics_cli.accuracy.priors import available_tasks as tasks

    return tasks()


def load_accuracy(
    task: str, evals: Sequence[Path] | None, resolve_model: Callable[[str], str]
) -> AccuracySource:
    """The accuracy source for `task`: the user's evaluation files when given; else, for aime24,
    the bundled measurements where they cover a setting and the priors elsewhere; else the priors.

    Evaluation model names go through `resolve_model` (catalog names and aliases); an unknown task
    raises InputError listing the known ones (priors) or the tasks found in the files (evaluations).
    """
    if evals:
        from kinetics_cli.accuracy.evals import load_evaluations

        return load_evaluations(task, list(evals), resolve_model)
    from kinetics_cli.accuracy.priors import PriorSource, load_profile

    profile = load_profile(task)
    priors = PriorSource(profile)
    from kinetics_cli.accuracy.measured import MEASURED_TASK, CompositeSource, load_measured

    if profile.task == MEASURED_TASK:
        return CompositeSource(load_measured(profile.prompt_tokens), priors)
    return priors


__all__ = ["AccuracySource", "Outcome", "Setting", "available_tasks", "load_accuracy"]
