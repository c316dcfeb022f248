"""docs/ASSURANCE.md stays true to the suite: every figure it quotes is one a test checks,
and every command it gives to reproduce a figure names a test that exists.

The figures themselves are checked by the tests that measure them (tests/figures.py):
each fails when the doc's line differs from what it measured.
"""

import re

from tests.figures import DOC, doc_lines
from tests.helpers import ROOT

# The first words of each figure line -> the test that measures it and checks the doc.
PRODUCERS = {
    "access matrix:": "tests/test_access_matrix.py::test_it_reports_how_many_cases_it_ran",
    "schemathesis:": "tests/test_schemathesis.py::"
    "test_it_fuzzes_every_operation_without_server_errors_or_violations",
    "redis restart:": "tests/test_core_redis_restart.py::"
    "test_officers_lose_no_alert_when_redis_restarts_and_it_prints_the_figure",
    "database connections terminated:": "tests/test_streams_db_recovery.py::"
    "test_web_and_stream_worker_recover_when_every_backend_is_terminated",
    "upload corpus:": "tests/test_hardening_upload_corpus.py::"
    "test_every_hostile_upload_is_refused_or_neutralised",
    "stream faults:": "tests/test_streams_soak.py::"
    "test_it_soaks_two_workers_on_an_rtsp_camera_and_prints_its_figures",
    "camera outage:": "tests/test_streams_soak.py::"
    "test_it_soaks_two_workers_on_an_rtsp_camera_and_prints_its_figures",
    "camera test:": "tests/test_hardening_camera_test_answers.py::"
    "test_it_answers_one_message_at_one_time_for_every_failure",
    "json parser:": "tests/test_hardening_json_parser.py::"
    "test_it_parses_a_body_of_escaped_quotes_in_about_a_plain_parse_time",
    "zip bomb:": "tests/test_hardening_zip_bomb.py::"
    "test_a_zip_bomb_is_refused_in_bounded_memory_and_the_rest_imported",
    "lone surrogate:": "tests/test_hardening_surrogates.py::"
    "test_no_choice_field_answers_a_lone_surrogate_with_a_server_error",
}


def _exists(test_id: str) -> bool:
    path, _, name = test_id.partition("::")
    file = ROOT / path
    return file.exists() and (not name or f"def {name.split('[')[0]}(" in file.read_text())


def figure_lines() -> list[str]:
    """The lines of the doc's bare code blocks (``` with no language): its figures."""
    figures, inside = [], None
    for line in doc_lines():
        if line.startswith("```"):
            inside = None if inside is not None else line[3:]
        elif inside == "":
            figures.append(line)
    return figures


def test_every_figure_it_quotes_has_a_test_that_checks_it():
    figures = figure_lines()
    quoted = [next((p for p in PRODUCERS if f.startswith(p)), None) for f in figures]
    assert None not in quoted, [f for f, p in zip(figures, quoted, strict=True) if p is None]
    assert sorted(set(quoted)) == sorted(PRODUCERS), "a measured figure is missing from the doc"
    assert all(_exists(test) for test in PRODUCERS.values())


def test_every_command_it_gives_names_a_test_that_exists():
    commands = re.findall(r"pytest ((?:tests/\S+\.py(?:::\S+)?\s*)+)", DOC.read_text())
    named = [test for command in commands for test in command.split()]
    assert named, "no reproduce command found"
    assert [test for test in named if not _exists(test.strip("`"))] == []
    for test in PRODUCERS.values():
        assert test.split("::")[0] in DOC.read_text(), f"no command reproduces {test}"
