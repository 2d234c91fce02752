#!/usr/bin/env python3
"""Golden test: runs viommu-replay on NAME.txt with the arguments in NAME.args (one per line) and
compares its JSON Lines with NAME.jsonl, byte for byte. Usage: check_replay.py REPLAY_BINARY NAME.txt"""
import difflib
import pathlib
import subprocess
import sys

replay, script = sys.argv[1], pathlib.Path(sys.argv[2])
args_file = script.with_suffix(".args")
args = args_file.read_text().splitlines() if args_file.exists() else []
expected = script.with_suffix(".jsonl").read_text()
run = subprocess.run([replay, *args, str(script)], capture_output=True, text=True)
if run.returncode != 0:
    print(f"viommu-replay exited {run.returncode}:\n{run.stderr}")
    sys.exit(1)
if run.stdout != expected:
    sys.stdout.writelines(difflib.unified_diff(expected.splitlines(True), run.stdout.splitlines(True),
                                               "expected", "actual"))
    sys.exit(1)
print(f"{script.name}: {len(expected.splitlines())} lines as expected")
