#!/usr/bin/env python3
"""viommu-truth's command line without a real boot (docs/ground-truth.md): what it refuses as bad input
(exit 2) before anything is downloaded or booted, and --recording, which compares the model with a
recorded real boot: 0 when every difference is known, 1 when one is not, the table on stdout.

Usage: truth_cli_test.py VIOMMU_TRUTH SOURCE_DIR"""
import json
import pathlib
import shutil
import sys
import tempfile

truth, source = sys.argv[1], pathlib.Path(sys.argv[2])
fixtures = source / "tests" / "integration" / "fixtures"
recordings = source / "tests" / "ground-truth" / "recordings"
known = source / "tests" / "ground-truth" / "known-differences.json"
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
from cli_expect import Expectations  # noqa: E402

checks = Expectations()
failures = checks.failures
expect = checks.expect


def expect_truth(name, args, code, *needles, where="stderr"):
    return expect(name, [truth] + list(args), code, *needles, where=where)


expect_truth("--help names the exit statuses", ["--help"], 0, "3 the real boot failed", where="stdout")
expect_truth("an unknown profile", ["--kernel", "6.6"], 2, "no Debian kernel for profile 6.6")
expect_truth("an XML libvirt refuses", [fixtures / "malformed.xml"], 2, "malformed.xml")
expect_truth("a guest behind another IOMMU cannot be booted for real", [fixtures / "q35-intel-iommu.xml"], 2,
       "cannot boot q35-intel-iommu for real")
expect_truth("a pc machine is not mapped", [fixtures / "pc-i440fx.xml"], 2, "only the q35 machine")
expect_truth("an aarch64 guest under an x86_64 kernel is refused before anything is fetched",
       [fixtures / "virt-aarch64.xml", "--kernel", "debian-12-6.12"], 2,
       "virt-aarch64 is an aarch64 guest and debian-12-6.12 an x86_64 kernel")
expect_truth("an aarch64 guest under UEFI with ACPI cannot be booted for real", [fixtures / "virt-aarch64-uefi.xml",
       "--kernel", "debian-12-6.12-arm64"], 2, "UEFI")
expect_truth("a recording that is not one", ["--recording", fixtures], 2, "no domain.xml")
expect_truth("--recording excludes a domain", ["--recording", recordings / "default-guest", fixtures / "q35-topology.xml"],
       2, "excludes")

with tempfile.TemporaryDirectory() as tmp:
    out = pathlib.Path(tmp, "diff.json")
    r = expect_truth("a recording whose differences are all known agrees", ["--recording", recordings / "default-guest",
               "--known", known, "--json", out], 0, "differ only where known", "endpoints/0x0200/maps", where="stdout")
    doc = json.loads(out.read_text()) if out.exists() else {}
    if doc.get("agree") is not True or not all(d["known"] for d in doc.get("differences", [])):
        failures.append(f"the --json of an agreeing recording: {doc!r:.400}")
    expect_truth("without --known the same differences make it disagree", ["--recording", recordings / "default-guest"], 1,
           "disagree", where="stdout")
    expect_truth("a recording without differences agrees", ["--recording", recordings / "no-iommu"], 0, "agree\n",
           where="stdout")

    # A recording whose real side differs in a group number: an unknown difference, exit 1.
    flipped = pathlib.Path(tmp, "flipped")
    shutil.copytree(recordings / "no-iommu", flipped)
    report = json.loads((flipped / "report.json").read_text())
    report["devices"][0]["driver"] = "imaginary"
    (flipped / "report.json").write_text(json.dumps(report))
    expect_truth("a recorded driver that differs is a disagreement", ["--recording", flipped, "--known", known], 1,
           "devices/0000:00:00.0/driver", "imaginary", where="stdout")

for f in failures:
    print("FAIL:", f)
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
