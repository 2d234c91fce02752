#!/usr/bin/env python3
"""Sums up meson test runs: per build directory, the meson tests and the Catch2 test cases inside them,
and the fuzz smoke runs when the directory has them (fuzz-smoke.jsonl, written by scripts/fuzz --smoke);
then one final line "N passed, N failed" over every meson test and every fuzz target of every build
directory."""
import json
import re
import sys

CATCH_ALL = re.compile(r"All tests passed \((\d+) assertions? in (\d+) test cases?\)")
CATCH_SOME = re.compile(r"test cases:\s+(\d+) \|\s+(\d+) passed \|\s+(\d+) failed")

total_pass = total_fail = 0
for build in sys.argv[1:]:
    passed = failed = cases_ok = cases_bad = 0
    try:
        with open(f"{build}/meson-logs/testlog.json") as log:
            for line in log:
                entry = json.loads(line)
                ok = entry["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
                passed += ok
                failed += not ok
                out = entry.get("stdout") or ""
                if m := CATCH_ALL.search(out):
                    cases_ok += int(m.group(2))
                elif m := CATCH_SOME.search(out):
                    cases_ok += int(m.group(2))
                    cases_bad += int(m.group(3))
    except FileNotFoundError:
        print(f"{build}: no test log (the build failed?)")
        failed += 1
    print(f"{build}: {passed} test suites passed, {failed} failed; "
          f"Catch2 test cases: {cases_ok} passed, {cases_bad} failed")
    try:
        with open(f"{build}/fuzz-smoke.jsonl") as smoke:
            runs = [json.loads(line) for line in smoke]
        fuzz_ok = sum(r["result"] == "OK" for r in runs)
        print(f"{build}: fuzz smoke: {fuzz_ok} targets without a finding, {len(runs) - fuzz_ok} with one")
        passed += fuzz_ok
        failed += len(runs) - fuzz_ok
    except FileNotFoundError:
        pass
    total_pass += passed
    total_fail += failed
print(f"{total_pass} passed, {total_fail} failed")
sys.exit(1 if total_fail or total_pass == 0 else 0)
