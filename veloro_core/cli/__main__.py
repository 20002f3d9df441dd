"""`python -m veloro_core.cli ...` (how hosts start the built-in plugins: `... run-plugins`)."""

from veloro_core.cli.main import main

if __name__ == "__main__":
    main()
