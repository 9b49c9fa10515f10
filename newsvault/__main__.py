"""``python -m newsvault``: the same as the ``newsvault`` console script."""

from newsvault.cli import main

if __name__ == "__main__":  # pragma: no cover
    main(prog_name="newsvault")
