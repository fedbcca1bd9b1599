"""`python -m movierec.cli`: the movierec command (what torchrun starts on each rank)."""

from movierec.cli.app import main

main()
