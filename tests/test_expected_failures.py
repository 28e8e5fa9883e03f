"""The expected-failures file: the README's forms load as documented, and an id naming no check is an
error (exit 2 naming the id and the file) in the CLI and in pytest mode, never "stale"."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.runner.expected import ExpectedFailuresError, load_expected_failures
from harness.runner.scenario import load_catalogue

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
REFERENCE = ROOT / "fixtures" / "targets" / "reference.toml"


def _readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n### Expected failures\n")
    return text[start:text.index("\n### ", start + 10)]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", _readme_section(), flags=re.S)


def test_the_readme_forms_load_as_documented(tmp_path: Path) -> None:
    catalogue = load_catalogue()
    (toml,), (js,) = _blocks("toml"), _blocks("json")
    table = tmp_path / "known.toml"
    table.write_text(toml, encoding="utf-8")
    assert load_expected_failures(table, catalogue) == {
        "TV-EXP-EXPIRED": "JIRA-123: the exp check lands in v2", "TV-ISS-PARTIAL": ""}
    listed = tmp_path / "known.json"
    listed.write_text(js, encoding="utf-8")
    assert load_expected_failures(listed, catalogue) == load_expected_failures(table, catalogue)
    # the one-list TOML form and the JSON object form the text names
    inline = re.search(r"`(expected_failures = \[.*?\])`", _readme_section(), flags=re.S)
    assert inline is not None
    one_list = tmp_path / "one-list.toml"
    one_list.write_text(inline.group(1).replace('"..."', '"why"') + "\n", encoding="utf-8")
    assert load_expected_failures(one_list, catalogue) == {"TV-ISS-PARTIAL": "", "TV-EXP-EXPIRED": "why"}
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"expected_failures": json.loads(js)}), encoding="utf-8")
    assert load_expected_failures(wrapped, catalogue) == load_expected_failures(table, catalogue)
    untyped = tmp_path / "known.list"  # another suffix: JSON, then TOML
    untyped.write_text(toml, encoding="utf-8")
    assert load_expected_failures(untyped, catalogue) == load_expected_failures(table, catalogue)


@pytest.mark.parametrize(("name", "text"), [
    ("typo.toml", '[[expected_failure]]\nid = "TV-ALG-NONE"\n[[expected_failure]]\nid = "TV-ALG-NOEN"\n'),
    ("typo.json", '["TV-ALG-NONE", {"id": "TV-ALG-NOEN", "comment": "x"}]'),
])
def test_an_id_not_in_the_catalogue_is_an_error_naming_it_and_the_file(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExpectedFailuresError) as refused:
        load_expected_failures(path, load_catalogue())
    message = str(refused.value)
    assert str(path) in message and "entry 2" in message and "'TV-ALG-NOEN'" in message
    assert "not a check in the catalogue" in message and "did you mean 'TV-ALG-NONE'" in message
    assert load_expected_failures(path) == {"TV-ALG-NONE": "", "TV-ALG-NOEN": "x" if name.endswith("json") else ""}


def test_run_refuses_an_unknown_id_before_running_anything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In process (``main`` is the CLI's entry point): the refusal comes before the app or the pool start."""
    known = tmp_path / "known.toml"
    known.write_text('[[expected_failure]]\nid = "TV-NO-SUCH-CHECK"\ncomment = "old"\n', encoding="utf-8")
    junit = tmp_path / "junit.xml"
    code = main(["run", "--target", str(REFERENCE), "-k", "TV-ALG-NONE", "--expected-failures", str(known),
                 "--junit-xml", str(junit)])
    out, err = capsys.readouterr()
    assert code == 2
    assert str(known) in err and "'TV-NO-SUCH-CHECK'" in err and "not a check in the catalogue" in err
    assert "Stale" not in out + err and not junit.exists()  # nothing ran, nothing was reported


def test_pytest_mode_refuses_an_unknown_id_as_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    known = tmp_path / "known.json"
    known.write_text('["TV-NO-SUCH-CHECK"]', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                           "-p", "no:faker", "--rootdir", str(tmp_path), "-c", str(tmp_path / "pytest.ini"),
                           "--cognito-target", str(REFERENCE), "--cognito-expected-failures", str(known),
                           "--collect-only", "-q"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-2000:]  # pytest's usage-error exit code
    assert "--cognito-expected-failures" in proc.stderr and str(known) in proc.stderr
    assert "'TV-NO-SUCH-CHECK'" in proc.stderr
