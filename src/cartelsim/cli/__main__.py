"""``python -m cartelsim.cli``: the same as the ``cartelsim`` command."""

from cartelsim.cli import app

app(prog_name="cartelsim")
