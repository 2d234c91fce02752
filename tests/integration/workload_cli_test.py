#!/usr/bin/env python3
"""viommu-boot --workload end to end: the patterns it lists, the table and the JSON it writes for the
default guest, a cost table that replaces the built-in costs, and the bad inputs it refuses with exit 2
(an unknown pattern, a cost file with an unknown key, a negative, non-numeric or boolean cost, an
unknown pattern in io_ns, text that is not JSON, options that mean nothing together). Without --workload
the report is as it was. Usage: workload_cli_test.py BUILD_DIR"""
import json
import pathlib
import subprocess
import sys
import tempfile

build = pathlib.Path(sys.argv[1])
boot = str(build / "tools" / "viommu-boot")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
from cli_expect import Expectations  # noqa: E402

checks = Expectations()
check = checks.check


def run(*args):
    return subprocess.run([boot, *map(str, args)], capture_output=True, text=True)


r = run("--workload", "help")
check("--workload help lists every pattern and exits 0",
      r.returncode == 0 and all(f"\n{p}: " in r.stdout for p in
                                ("disk-4k-randread", "disk-64k-seqread", "net-1500", "net-64k")), r)
check("--workload help names each driver's calls",
      "  virtio_blk: drivers/virtio/virtio_ring.c" in r.stdout and "dma_map_sg 16 x data pages" in r.stdout, r)

r = run("--workload", "disk-1m")
check("an unknown pattern is bad input (exit 2), naming the known ones",
      r.returncode == 2 and 'unknown pattern "disk-1m"' in r.stderr and "disk-4k-randread" in r.stderr, r)

r = run("--workload", "disk-4k-randread")
check("the default guest with --workload keeps its verdict (exit 1)", r.returncode == 1, r)
check("the workload table follows the device table",
      "\nworkload disk-4k-randread: events per I/O" in r.stdout and "DMA MAPS" in r.stdout, r)
rows = {line.split()[0]: line for line in r.stdout.splitlines() if line.startswith("0000:") and "lazy (DMA-FQ)" in line}
check("the default guest's disks run lazy: virtio-blk and AHCI",
      set(rows) == {"0000:02:00.0", "0000:00:1f.2"}, r)
check("virtio-blk's 4 KiB read: 4 maps, 4 MAPs, 4 UNMAPs, 4.01569 kicks",
      rows.get("0000:02:00.0", "").split()[4:10] == ["255", "4", "4", "4", "4.01569", "4.01569"], r)
check("without io_ns the latency is what the IOMMU adds", "+143.7 us" in rows.get("0000:02:00.0", ""), r)

plain = run()
r = run("--workload", "net-1500")
check("the device table is the same with or without --workload",
      r.stdout.startswith(plain.stdout) and r.stdout != plain.stdout, r)

with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    report = tmp / "report.json"
    r = run("--workload", "net-1500", "--json", report)
    doc = json.loads(report.read_text())
    nics = {e["bdf"]: e for e in doc["workload"]["endpoints"]}
    check("the JSON report has the workload: the NIC, lazy, one MAP per frame",
          list(nics) == ["0000:01:00.0"] and nics["0000:01:00.0"]["mode"] == "lazy"
          and nics["0000:01:00.0"]["per_io"]["map_requests"] == 1, r)
    check("the JSON names the built-in costs", doc["workload"]["costs"]["source"] == "built-in"
          and doc["workload"]["costs"]["kick_ns"] == 31800, r)
    plain_report = tmp / "plain.json"
    run("--json", plain_report)
    check("without --workload the JSON has no workload key", "workload" not in json.loads(plain_report.read_text()))

    costs = tmp / "costs.json"
    costs.write_text('{"kick_ns": 10000, "map_request_ns": 0, "unmap_request_ns": 0, "io_ns": {"disk-4k-randread": 40000}}')
    r = run("--workload", "disk-4k-randread", "--workload-costs", costs, "--json", report)
    doc = json.loads(report.read_text())
    blk = next(e for e in doc["workload"]["endpoints"] if e["bdf"] == "0000:02:00.0")
    check("a cost file replaces the costs it names",
          doc["workload"]["costs"]["source"] == "file" and doc["workload"]["costs"]["kick_ns"] == 10000
          and doc["workload"]["costs"]["sync_ns"] == 0, r)
    check("with io_ns the latency includes the I/O and the ratio against no IOMMU",
          abs(blk["latency_ns"] - (40000 + 10000 * 1024 / 255)) < 1e-6
          and abs(blk["ratio"] - blk["latency_ns"] / 40000) < 1e-9, r)
    r = run("--workload", "disk-4k-randread", "--workload-costs", costs)
    check("the table prints the latency and the ratio", "80.2 us (x2.00)" in r.stdout, r)

    for name, text, says in [
        ("an unknown key", '{"kick_us": 5}', 'unknown key "kick_us"'),
        ("a negative cost", '{"kick_ns": -5}', "kick_ns: -5 is not a cost"),
        ("a non-numeric cost", '{"kick_ns": "fast"}', 'kick_ns: "fast" is not a number'),
        ("a boolean cost", '{"sync_ns": true}', "sync_ns: true is not a number"),
        ("an unknown pattern in io_ns", '{"io_ns": {"disk-1m": 5}}', 'io_ns: unknown pattern "disk-1m"'),
        ("text that is not JSON", "kick_ns = 5", "the cost table must be one JSON object"),
    ]:
        bad = tmp / "bad.json"
        bad.write_text(text)
        r = run("--workload", "disk-4k-randread", "--workload-costs", bad)
        check(f"a cost file with {name} is bad input (exit 2)",
              r.returncode == 2 and says in r.stderr and str(bad) in r.stderr and r.stdout == "", r)
    r = run("--workload", "disk-4k-randread", "--workload-costs", tmp / "missing.json")
    check("a cost file that does not exist is bad input (exit 2)", r.returncode == 2 and "missing.json" in r.stderr, r)

r = run("--workload-costs", "x.json")
check("--workload-costs without --workload is bad input (exit 2)", r.returncode == 2, r)
r = run("--workload", "net-1500", "--compare-kernels")
check("--workload with --compare-kernels is bad input (exit 2), naming both",
      r.returncode == 2 and "--workload" in r.stderr and "--compare-kernels" in r.stderr, r)

if checks.failures:
    print("\nFAILED:\n" + "\n".join(checks.failures))
    sys.exit(1)
