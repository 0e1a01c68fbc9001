"""The command line never contradicts the API, and its help is its own.

``lacstats design --study FILE`` prints the design ``study.load(FILE).design()`` gives, for
every setting of the study file; every option has help text, in plain words (no reST
markup); every command's ``--help`` is that command's, ``ssda903 validate`` included.
"""

from __future__ import annotations

import argparse
import re

import pytest

from lacstats import cli, study

#: One study file per setting of the design: each differs from the seed study's defaults
#: in that setting only (the North West, whose 2019 design the issue found ignored).
STUDY_FILES = {
    "frame.population": '[frame]\nyear = 2019\npopulation = "lac_16_over"\n',
    "frame.year": "[frame]\nyear = 2015\n",
    "design.convention": '[frame]\nyear = 2019\n[design]\nconvention = "exact"\n',
    "design.confidence": "[frame]\nyear = 2019\n[design]\nconfidence = 0.9\n",
    "design.interval": "[frame]\nyear = 2019\n[design]\ninterval = 5\n",
    "all of them": (
        '[frame]\nyear = 2018\npopulation = "lac_total"\n'
        '[design]\nconvention = "krejcie-morgan"\nconfidence = 0.99\ninterval = 7.5\n'
    ),
}


def _study(tmp_path, body: str, authorities: str = 'region = "North West"'):
    path = tmp_path / "study.toml"
    path.write_text(f'[study]\nname = "nw"\n[authorities]\n{authorities}\n{body}')
    return path


@pytest.mark.parametrize("setting", list(STUDY_FILES))
def test_design_of_a_study_file_is_the_study_api_design(tmp_path, capsys, setting):
    path = _study(tmp_path, STUDY_FILES[setting])
    expected = study.load(path).design()
    out = tmp_path / "design.csv"
    assert cli.main(["design", "--study", str(path), "--out", str(out)]) == 0
    printed, warned = capsys.readouterr()
    assert out.read_text() == expected.to_frame().to_csv(index=False, lineterminator="\n")
    total = int(expected.table["n"].sum())
    assert f"total n = {total:,}" in printed
    assert warned == ""  # nothing overridden


def test_design_of_the_issue_north_west_studies(tmp_path, capsys):
    # the issue's cases: aged 16 and over, 1,110 (the CLI printed 1,683); exact 90% +/-5
    sixteen = _study(tmp_path, '[frame]\nyear = 2019\npopulation = "lac_16_over"\n')
    assert cli.main(["design", "--study", str(sixteen)]) == 0
    assert "total n = 1,110 " in capsys.readouterr().out
    assert int(study.load(sixteen).design().table["n"].sum()) == 1110
    exact = _study(
        tmp_path,
        '[frame]\nyear = 2019\n[design]\nconvention = "exact"\nconfidence = 0.9\ninterval = 5\n',
    )
    assert cli.main(["design", "--study", str(exact)]) == 0
    printed = capsys.readouterr().out
    total = int(study.load(exact).design().table["n"].sum())
    assert f"total n = {total:,} (convention 'exact', 90% confidence, +/-5 points" in printed


def test_design_of_a_study_listing_authorities(tmp_path, capsys):
    path = _study(tmp_path, "[frame]\nyear = 2018\n", 'list = ["Kent", "E06000035"]')
    out = tmp_path / "design.csv"
    assert cli.main(["design", "--study", str(path), "--out", str(out)]) == 0
    assert out.read_text() == study.load(path).design().to_frame().to_csv(
        index=False, lineterminator="\n"
    )
    assert "2 strata" in capsys.readouterr().out


def test_an_option_overrides_the_study_file_and_says_so(tmp_path, capsys):
    path = _study(tmp_path, "[frame]\nyear = 2019\n[design]\nconfidence = 0.9\n")
    args = ["design", "--study", str(path), "--confidence", "0.95", "--year", "2019"]
    assert cli.main(args) == 0
    printed, warned = capsys.readouterr()
    # --year equals the study's: not an override; --confidence is
    assert warned == "lacstats design: --confidence 0.95 in place of the study file's 0.9\n"
    seed_like = study.load(_study(tmp_path, "[frame]\nyear = 2019\n")).design()
    assert f"total n = {int(seed_like.table['n'].sum()):,} " in printed


def test_design_without_a_study_keeps_the_seed_study_defaults(capsys):
    assert cli.main(["design"]) == 0
    seed = study.south_east().design()
    assert f"total n = {int(seed.table['n'].sum()):,} (convention 'crs', 95%" in (
        capsys.readouterr().out
    )


# -- help --------------------------------------------------------------------------------------
def _parsers(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()):
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, (*words, name))


COMMANDS = [words for words, _ in _parsers(cli.parser())] + [
    ("ssda903", "validate"),
    ("ssda903", "rules"),
]


def test_every_option_and_argument_has_help_text():
    missing = []
    for words, parser in _parsers(cli.parser()):
        for action in parser._actions:
            if not (action.help or "").strip():
                missing.append(
                    f"lacstats {' '.join(words)} {action.option_strings or action.dest}"
                )
    for word, own in (
        ("validate", cli._ssda903_validate_parser),
        ("rules", cli._ssda903_rules_parser),
    ):
        for action in own()._actions:
            if not (action.help or "").strip():
                missing.append(f"lacstats ssda903 {word} {action.option_strings or action.dest}")
    assert missing == []


#: reST and Markdown markup that --help must not show: ``literal``, :role:`x`, **bold**
MARKUP = re.compile(r"``|:[a-z]+:`|\*\*|`[^`]+`")


@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w) or "lacstats")
def test_every_command_help_is_its_own_and_plain(words, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main([*words, "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    first = text.splitlines()[0]
    assert re.match(rf"usage: {re.escape(' '.join(('lacstats', *words)))}( |$)", first), first
    assert not MARKUP.search(text), MARKUP.search(text)


def test_ssda903_validate_help_lists_its_own_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["ssda903", "validate", "--help"])
    own = capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["ssda903", "--help"])
    parent = capsys.readouterr().out
    assert own != parent
    assert "--census" in parent
    assert "--census" not in own
    assert "--out OUT" in own
    assert ".xlsx" in own
