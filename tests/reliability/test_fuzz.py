"""Sixty damaged inputs (seeded: truncations, flipped bytes, zeroed ranges, header damage, wrong
extensions, audio only, bad metadata, sequences with holes) through ``vidstyle run`` in a child
process: exit 0 with a playable output, or exit 2 with one line and nothing at the output path, no hang.
``benchmarks/fuzz.py`` runs thousands of the same cases."""

from __future__ import annotations

import pytest

from vidstyle.fuzz import KINDS, CaseRunner, make_bases, make_case, run_case

CASES = 60
SEED = 2024


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    return make_bases(tmp_path_factory.mktemp("fuzz-bases"))


@pytest.fixture(scope="module")
def runner():
    r = CaseRunner()
    yield r
    r.close()


def test_every_kind_is_covered():
    assert CASES >= 3 * len(KINDS)


@pytest.mark.parametrize("index", range(CASES))
def test_damaged_input(index, bases, runner, tmp_path):
    case = make_case(index, SEED, bases, tmp_path)
    outcome = run_case(runner, case, timeout=60)
    assert outcome.problems == [], (case.kind, case.base, case.argv[3:], outcome.stderr[-500:])
