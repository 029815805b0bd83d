"""``python -m renewer`` runs the CLI."""

from renewer.cli import main

main()
