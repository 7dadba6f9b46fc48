"""What several commands share: their common options, and the flags that the package's error
messages name where a library caller would pass a Python argument instead."""

from __future__ import annotations

import argparse

from .folder import DEFAULT_WAIT

#: --vectors defaults to None, which the library reads as its default set (imagesearch.glove's).
VECTORS_HELP = (
    "word vectors (default: imagesearch.glove.DEFAULT_VECTORS, which works offline); "
    "glove-6b-300d is the talk's, downloaded once"
)

# Library messages name the Python argument; a command-line user needs the flag instead.
# tests/test_cli_messages.py finds every `argument=` in the package's messages and checks that it
# is translated here or listed in PYTHON_ONLY (arguments no command passes).
CLI_FLAGS = {"on_error='skip'": "--skip-bad", "epochs=": "--epochs ", "n_trees=": "--trees"}
PYTHON_ONLY = {"batch_size", "patience", "hidden", "dropout", "lr"}  # joint.train_joint's own settings


def for_command_line(message: str) -> str:
    """An error message with each Python argument it names replaced by the command's flag."""
    for python, flag in CLI_FLAGS.items():
        message = message.replace(python, flag)
    return message


STORE_HELP = "serve from Qdrant: qdrant://HOST:PORT (a server) or local:PATH (no server)"


def add_wait(p: argparse.ArgumentParser) -> None:
    """--wait: how long a command that writes an index folder waits for another writer."""
    p.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT,
        metavar="SECONDS",
        help=f"if another command is writing to the index, wait this long for it (default {DEFAULT_WAIT:g})",
    )
