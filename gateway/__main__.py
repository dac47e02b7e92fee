"""`python -m gateway ...`: the `epolicy` command, for a launcher that knows the interpreter but not the scripts."""

from gateway.cli import main

main(prog_name="epolicy")
