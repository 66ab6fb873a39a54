"""Entry point for ``python -m kinetics_cli``."""

from kinetics_cli.cli.main import run

if __name__ == "__main__":
    run()
