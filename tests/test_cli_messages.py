"""Messages for the command line: an error a CLI user can meet names the flag to use, never the
Python argument (`--skip-bad`, not `on_error='skip'`). The package's messages are scanned for
`argument=` and each one must be translated by flags.CLI_FLAGS or be one no command passes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from imagesearch import cli, flags
from imagesearch.images import ImageLoadError
from imagesearch.joint import train_joint_model
from imagesearch.storage import ImageSearchError

PACKAGE = Path(cli.__file__).parent
ARGUMENT = re.compile(r"(?<![\w.-])([a-z_][a-z0-9_]*)=(?!=)")


def _is_assertion(exc: ast.expr) -> bool:
    return isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name) and exc.func.id == "AssertionError"


def message_strings() -> list[tuple[str, str]]:
    """(where, text) of every string an error can carry: those inside a `raise` statement and
    those inside an exception class (its message built in __init__), f-string parts included.
    AssertionErrors are left out: they are the exercise checks' answers to a learner's notebook
    code (imagesearch/exercises.py), which no command runs."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        places = [
            n.exc
            for n in ast.walk(tree)
            if isinstance(n, ast.Raise) and n.exc is not None and not _is_assertion(n.exc)
        ]
        places += [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name.endswith("Error")]
        for place in places:
            for node in ast.walk(place):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.append((f"{path.relative_to(PACKAGE.parent)}:{node.lineno}", node.value))
    return found


def python_arguments() -> dict[str, str]:
    """{argument: where} for every `argument=` a message of the package names."""
    return {m.group(1): where for where, text in message_strings() for m in ARGUMENT.finditer(text)}


def test_every_argument_a_message_names_has_a_flag_or_no_command_passes_it():
    assert {"on_error", "epochs"} <= set(python_arguments())  # the scan finds the known ones
    translated = {re.match(r"[a-z_]+", python).group() for python in flags.CLI_FLAGS}
    unknown = {a: w for a, w in python_arguments().items() if a not in translated | flags.PYTHON_ONLY}
    assert not unknown, f"messages name Python arguments with no CLI flag in flags.CLI_FLAGS: {unknown}"


def test_the_flags_are_the_parsers():
    options = {o for action in _actions(cli.build_parser()) for o in action.option_strings}
    for flag in flags.CLI_FLAGS.values():
        assert flag.strip() in options, flag


def _actions(parser):
    for action in parser._actions:
        yield action
        for sub in getattr(action, "choices", None).values() if isinstance(action.choices, dict) else ():
            yield from _actions(sub)


def test_a_bad_image_says_skip_bad_on_the_command_line():
    message = cli.for_command_line(str(ImageLoadError("photos/broken.jpg", "truncated")))
    assert "--skip-bad" in message and "on_error" not in message
    assert "photos/broken.jpg" in message


def test_the_command_prints_the_flag(tmp_path, capsys, monkeypatch):
    """Through main: a command whose library call fails with a Python argument in its message."""

    def fails(args):
        raise ImageLoadError(tmp_path / "broken.jpg", "cannot identify image file")

    monkeypatch.setattr(cli, "cmd_check", fails)
    assert cli.main(["check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read image") and "--skip-bad" in err and "on_error" not in err


def test_bad_training_settings_name_the_epochs_flag():
    try:
        train_joint_model(None, None, None, epochs=0)
    except ImageSearchError as error:
        message = cli.for_command_line(str(error))
    assert "--epochs 0" in message and "epochs=" not in message
