#!/usr/bin/env python3
"""Command-line contract of the tools: --help exits 0, every bad input exits 2 with a message naming the
problem, --trace enables trace points by glob. Usage: cli_test.py BUILD_DIR"""
import pathlib
import subprocess
import sys
import tempfile

build = pathlib.Path(sys.argv[1])
tools = build / "tools"
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
from cli_expect import Expectations  # noqa: E402

checks = Expectations()
failures = checks.failures
expect = checks.expect


replay = str(tools / "viommu-replay")
boot = str(tools / "viommu-boot")
with tempfile.TemporaryDirectory() as tmp:
    good = pathlib.Path(tmp, "good.txt")
    good.write_text("attach 1 8\n")
    bad = pathlib.Path(tmp, "bad.txt")
    bad.write_text("attach 1 8\n\nmap 1 0x1000\n")

    expect("replay --help", [replay, "--help"], 0, "--endpoints", "--granule", "--aw-bits", "--resv",
           "--no-feature", "--boot-bypass", "--trace", where="stdout")
    expect("replay unknown flag", [replay, "--frobnicate", str(good)], 2, "--frobnicate")
    expect("replay missing script argument", [replay], 2, "SCRIPT")
    expect("replay unreadable script", [replay, str(pathlib.Path(tmp, "none.txt"))], 2, "cannot read")
    expect("replay bad script line", [replay, str(bad)], 2, "bad.txt:3", "'map' takes")
    expect("replay bad granule", [replay, "--granule", "3k", str(good)], 2, "--granule", "power of two")
    expect("replay bad aw-bits", [replay, "--aw-bits", "99", str(good)], 2, "--aw-bits")
    expect("replay bad endpoints", [replay, "--endpoints", "8-2", str(good)], 2, "ends before it starts")
    expect("replay bad resv", [replay, "--resv", "0x8:0x10-0x20:weird", str(good)], 2, "reserved' or 'msi")
    expect("replay resv naming a missing endpoint", [replay, "--endpoints", "8", "--resv", "9:0x0-0xfff:msi", str(good)],
           2, "not all of which exist")
    expect("replay unknown feature", [replay, "--no-feature", "teleport", str(good)], 2, "unknown feature 'teleport'")
    expect("replay bad probe size", [replay, "--probe-size", "100", str(good)], 2, "multiple of 8")
    expect("replay probe size too small for the properties", [replay, "--probe-size", "16", str(good)], 2,
           "probe_size 16 is too small for the 24 bytes")
    expect("replay reserved regions of different types overlapping",
           [replay, "--resv", "0xfee00000-0xfee00fff:reserved", str(good)], 2, "overlap with different types")
    expect("replay unknown exact trace point", [replay, "--trace", "no_such_point", str(good)], 2, "does not exist")
    expect("replay trace help lists points", [replay, "--trace", "help", str(good)], 0, "virtio_iommu_map",
           "virtqueue_pop", where="stdout")
    expect("replay refuses a malformed trace glob", [replay, "--trace", "[", str(good)], 2, "without its ']'")
    expect("replay trace glob", [replay, "--trace", "virtio_iommu_attach", str(good)], 0,
           "virtio_iommu_attach domain=1 endpoint=8\n")
    # QEMU's -trace forms: enable=PATTERN, events=FILE ('-PATTERN' disables), file=FILE, comma-separated.
    expect("replay trace enable=", [replay, "--trace", "enable=virtio_iommu_attach", str(good)], 0,
           "virtio_iommu_attach domain=1 endpoint=8\n")
    events = pathlib.Path(tmp, "events")
    events.write_text("# what QEMU's -trace events=FILE reads\nvirtio_iommu_*\n-virtio_iommu_get_config\n")
    trace_out = pathlib.Path(tmp, "trace.log")
    expect("replay trace events= and file=", [replay, "--trace", f"events={events},file={trace_out}", str(good)], 0)
    written = trace_out.read_text() if trace_out.exists() else ""
    if "virtio_iommu_attach domain=1 endpoint=8\n" not in written or "virtio_iommu_get_config" in written:
        failures.append(f"replay trace events=/file=: the file holds {written[:400]!r}")
    expect("replay refuses an unknown trace option", [replay, "--trace", "backend=log", str(good)], 2,
           "unknown trace option 'backend'")
    expect("replay refuses a missing events file", [replay, "--trace", f"events={tmp}/none", str(good)], 2,
           "--trace events=")
    # In a batch, guests boot side by side: each trace line starts with its guest's name.
    fixtures = pathlib.Path(__file__).resolve().parent / "fixtures"
    batch = pathlib.Path(tmp, "batch")
    batch.mkdir()
    for name in ("q35-topology.xml", "q35-no-addresses.xml"):
        (batch / name).write_text((fixtures / name).read_text())
    r = subprocess.run([boot, "--batch", str(batch), "--out", str(pathlib.Path(tmp)), "--trace", "virtio_iommu_attach"],
                       capture_output=True, text=True)
    attach_lines = [line for line in r.stderr.splitlines() if "virtio_iommu_attach " in line]
    guests = {line.split(": virtio_iommu_attach ")[0] for line in attach_lines}
    if not attach_lines or guests != {"q35-topology", "q35-no-addresses"}:
        failures.append(f"batch trace lines do not all name their guest: {attach_lines[:6]!r}")
    else:
        print("ok: batch trace lines name their guest")
    expect("replay refuses a script that never ends", [replay, "/dev/zero"], 2, "larger than 16 MiB")
    expect("replay refuses a directory as its script", [replay, tmp], 2, "is a directory")
    expect("replay keeps stdout JSON Lines: the device's warning goes to stderr",
           [replay, "--decline", "bypass-config", "-"], 1, "BYPASS_CONFIG", stdin="bypass 0\nattach 1 8\n")
    r = subprocess.run([replay, "--decline", "bypass-config", "-"], input="bypass 0\nattach 1 8\n",
                       capture_output=True, text=True)
    if not all(line.startswith("{") for line in r.stdout.splitlines()):
        failures.append(f"replay stdout is not JSON Lines: {r.stdout!r}")
    expect("replay escapes a script's control bytes in its error, and says all of it",
           [replay, "-"], 2, "unknown word 'x\\x1b[2Jy\\x00z'", stdin="x\x1b[2Jy\x00z 1\n")
    expect("replay reads standard input", [replay, "-"], 0, '"op":"attach"', stdin="attach 1 8\n", where="stdout")

    # --device-profile: the names in --help, an unknown one refused with the known ones, and under a QEMU
    # profile every option that QEMU release cannot be given refused with why.
    expect("replay --help lists the device profiles", [replay, "--help"], 0, "--device-profile", "spec", "qemu-7.2",
           where="stdout")
    expect("replay unknown device profile", [replay, "--device-profile", "qemu-1.0", str(good)], 2,
           "unknown device profile 'qemu-1.0' (known: spec, qemu-7.2, qemu-9.1)")
    qemu = [replay, "--device-profile", "qemu-7.2"]
    for option, value, why in [("--granule", "64k", "no granule property"), ("--aw-bits", "48", "no aw-bits property"),
                               ("--domain-range", "0-1023", "its domain range is 0-0xffffffff"),
                               ("--probe-size", "1024", "always 512"),
                               ("--max-domains", "16", "no such limits"),
                               ("--no-feature", "mmio", "no switch for its virtio-iommu features"),
                               ("--resv", "0x8:0x1000-0x1fff:reserved", "apply to every endpoint")]:
        expect(f"replay qemu-7.2 refuses {option}", qemu + [option, value, str(good)], 2,
               "the qemu-7.2 profile cannot take it", why)
    expect("replay qemu-7.2 refuses --legacy-bypass", qemu + ["--legacy-bypass", str(good)], 2, "never the legacy bypass")
    expect("replay qemu-7.2 takes QEMU's own values", qemu + ["--granule", "4k", "--no-feature", "event-idx", "-"], 0,
           '"status":"UNSUPP"', stdin="raw 42000000\n", where="stdout")
    expect("replay qemu-7.2 gives up on a request without room for the tail", qemu + ["-"], 1,
           "bad head/tail size", stdin="raw 0100000001000000 in=2\n")
    qemu91 = [replay, "--device-profile", "qemu-9.1"]
    expect("replay qemu-9.1 takes QEMU 9.1's granule and aw-bits", qemu91 + ["--granule", "64k", "--aw-bits", "39", "-"],
           0, '"status":"OK"', stdin="attach 1 8\n", where="stdout")
    expect("replay qemu-9.1 refuses a granule its property cannot take", qemu91 + ["--granule", "32k", str(good)], 2,
           "takes 4k, 8k, 16k or 64k")
    expect("replay qemu-9.1 refuses aw-bits below 32", qemu91 + ["--aw-bits", "20", str(good)], 2, "within [32,64]")

if failures:
    print("\n".join(failures))
    sys.exit(1)
