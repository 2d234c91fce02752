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
check("an option QEMU 7.2 has no property for: exit 2 and why", r.returncode == 2 and "QEMU 7.2 cannot be given an input range" in r.stderr, r)
r = run("--endpoints", "8", "--against", "qemu", "-", stdin="attach 1 0x100\n")
check("an endpoint neither side has is answered alike (NOENT)", r.returncode == 0 and r.stdout == "", r)
r = run("--endpoints", "8", "--against", "qemu", "-", stdin="raw 2a00000001000000 in=4\n")
lines = objects(r)
check("a difference is printed with both answers",
      len(lines) == 1 and lines[0]["viommu"] == {"line": 1, "op": "raw", "used_len": 0}
      and lines[0]["qemu"]["status"] == "UNSUPP" and "explained_by" in lines[0], r)
r = run("--endpoints", "8", "--device-profile", "qemu-7.2", "--against", "qemu", "-",
        stdin="attach 1 8\nraw 0500000008000000 in=16\nattach 1 8\n")
check("a PROBE buffer smaller than probe_size aborts QEMU 7.2: exit 3, the line, QEMU's assertion",
      r.returncode == 3 and "stopped answering at line 2" in r.stderr and "Assertion `sz == output_size' failed" in r.stderr, r)
r = run("--endpoints", "8", "--against", "qemu", "-", stdin="frob\n")
check("a script error: exit 2 before QEMU starts", r.returncode == 2 and "unknown word 'frob'" in r.stderr, r)


# Every golden script, and the script that reaches each documented departure, on both devices: with the
# qemu-7.2 profile no step may differ; with spec every difference must be explained. A script whose
# options QEMU 7.2 has no property for is reported as such (exit 2 naming the option), never dropped.
def script_args(txt):
    args = txt.with_suffix(".args")
    return args.read_text().split() if args.exists() else []


# The golden scripts written for options QEMU 7.2 has no property for (--platform arm, per-endpoint
# reserved regions, aw-bits, granule, domain range, a domain limit) are refused with those options, saying
# why, and compared with QEMU's own options instead (no .args).
NOT_FOR_QEMU_7_2 = {"faults", "probe_reset", "statuses", "unmap_examples"}
# QEMU 7.2 never answers line 18 of statuses.txt: line 9 put an inverted interval in its mapping tree
# (virtio_iommu_map() does not check virt_end < virt_start), and the UNMAP over it loops for ever, as
# the interval cannot be removed from a tree it breaks the order of.
HANGS_QEMU_7_2 = {"statuses"}


def compare_both_profiles(name, args, txt):
    r = run(*args, "--device-profile", "qemu-7.2", "--against", "qemu", txt)
    differing = [o for o in objects(r) if "explained_by" in o]
    check(f"{name}: with the qemu-7.2 profile, QEMU 7.2 answers every step as we do", r.returncode == 0 and not differing, r)
    r = run(*args, "--against", "qemu", txt)
    unexplained = [o for o in objects(r) if o.get("explained_by") == "unexplained"]
    check(f"{name}: with the spec profile, every difference is explained", r.returncode == 0 and not unexplained, r)


scripts = sorted(golden.glob("*.txt")) + sorted((root / "tests" / "conformance" / "qemu").glob("*.txt"))
for txt in scripts:
    name = txt.stem
    if name not in NOT_FOR_QEMU_7_2:
        compare_both_profiles(name, script_args(txt), txt)
        continue
    r = run(*script_args(txt), "--device-profile", "qemu-7.2", "--against", "qemu", txt)
    check(f"{name}: its options are refused for QEMU 7.2, saying why (exit 2)",
          r.returncode == 2 and r.stdout == "" and "QEMU" in r.stderr, r)
    if name in HANGS_QEMU_7_2:
        r = run("--device-profile", "qemu-7.2", "--against", "qemu", txt)
        check(f"{name}: with QEMU's options, QEMU 7.2 stops answering at the UNMAP over an inverted mapping (exit 3)",
              r.returncode == 3 and "stopped answering at line 18" in r.stderr, r)
    else:
        compare_both_profiles(f"{name} (QEMU's options)", [], txt)

r = run("--endpoints", "0x8,0x10", "--against", "qemu", root / "tests" / "conformance" / "qemu" / "deviations.txt")
rows = {o["line"]: o["explained_by"] for o in objects(r) if "explained_by" in o}
check("deviations.txt: each difference names the conformance row that explains it",
      "not aligned" in rows.get(8, "") and "below virt_start" in rows.get(9, "") and "reserved region" in rows.get(10, "")
      and "reserved field" in rows.get(11, "") and "split" in rows.get(15, "") and "current domain" in rows.get(19, "")
      and "never attached" in rows.get(20, "") and "unknown request type" in rows.get(21, "")
      and "head or tail" in rows.get(22, ""), r)

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    print(f"{len(failures)} failed")
    sys.exit(1)
