"""The command line bounds libgomp's spin-wait before torch loads, unless the user chose otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

from vidstyle.openmp import SPIN_COUNT, bound_spin_wait


def test_sets_the_spin_count_when_nothing_is_chosen():
    environ: dict[str, str] = {}
    bound_spin_wait(environ)
    assert environ == {"GOMP_SPINCOUNT": SPIN_COUNT}


def test_leaves_the_users_choice_alone():
    chosen = {"GOMP_SPINCOUNT": "300000"}
    bound_spin_wait(chosen)
    assert chosen == {"GOMP_SPINCOUNT": "300000"}
    passive = {"OMP_WAIT_POLICY": "PASSIVE"}
    bound_spin_wait(passive)
    assert passive == {"OMP_WAIT_POLICY": "PASSIVE"}


def test_the_command_line_sets_it_before_torch_is_imported(tmp_path):
    code = ("import os, sys\nfrom vidstyle.cli.app import main\n"
            "loaded_before = 'torch' in sys.modules\n"
            "main(['doctor'])\n"
            "print('SPIN', os.environ.get('GOMP_SPINCOUNT'), loaded_before, 'torch' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True,
                         cwd=tmp_path, env=env).stdout.strip().splitlines()[-1]
    assert out == f"SPIN {SPIN_COUNT} False True"
