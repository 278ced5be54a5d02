"""``python -m corpus`` runs the CLI (same as the ``corpus`` command)."""

from corpus.cli import app

app(prog_name="corpus")
