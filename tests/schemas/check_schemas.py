#!/usr/bin/env python3
"""The JSON Schemas of docs/schemas/ hold for what the tools really write and read, and each refuses a
deliberately broken document (so that a schema which accepts anything fails here).

Real outputs: viommu-boot's report for the default guest and every fixture that boots, a batch over the
fixtures (its summary and every per-guest file), --compare-kernels --json, viommu-replay's JSON Lines for
every script in tests/conformance/scripts (and the golden .jsonl files), and the profile example of
docs/kernel-profiles.md and the built-in profiles written out as files, which viommu-boot must also accept,
every ground-truth recording's report.json (real boots, viommu-truth --record) and viommu-truth's
differences for each recording (--recording DIR --json).

Usage: check_schemas.py VALIDATE_JSON VIOMMU_BOOT VIOMMU_REPLAY SOURCE_DIR VIOMMU_TRUTH"""
import copy
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

validator, boot, replay, source = sys.argv[1], sys.argv[2], sys.argv[3], pathlib.Path(sys.argv[4])
truth = sys.argv[5]
recordings = source / "tests" / "ground-truth" / "recordings"
schemas = source / "docs" / "schemas"
fixtures = source / "tests" / "integration" / "fixtures"
scripts = source / "tests" / "conformance" / "scripts"
failures = []


def check(name, ok, detail=""):
    if ok:
        print(f"ok: {name}")
    else:
        failures.append(f"{name}{': ' + detail if detail else ''}")


def validate(schema, *files, lines=False):
    args = [validator] + (["--lines"] if lines else []) + [str(schemas / schema)] + [str(f) for f in files]
    return subprocess.run(args, capture_output=True, text=True)


def expect_valid(name, schema, *files, lines=False):
    r = validate(schema, *files, lines=lines)
    check(f"{name} is valid against {schema}", r.returncode == 0, f"exit {r.returncode}\n{r.stderr[:2000]}")


def expect_refused(name, schema, document, tmp, lines=False):
    path = tmp / f"broken-{len(list(tmp.glob('broken-*')))}.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    r = validate(schema, path, lines=lines)
    check(f"{schema} refuses {name}", r.returncode == 1 and r.stderr, f"exit {r.returncode}\n{r.stderr[:600]}")


def run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True)


# Every schema is JSON and declares the draft the validator implements.
for schema in sorted(schemas.glob("*.schema.json")):
    doc = json.loads(schema.read_text())
    check(f"{schema.name} declares draft-07", doc.get("$schema") == "http://json-schema.org/draft-07/schema#")

with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)

    # viommu-boot's report: the default guest, and every fixture libvirt accepts (exit 0 or 1, or 3 for
    # a guest viommu does not model).
    default_report = tmp / "default.json"
    r = run(boot, "--json", default_report)
    check("the default guest boots", r.returncode == 1 and default_report.exists(), r.stderr)
    expect_valid("the default guest's report", "boot-report.schema.json", default_report)
    reports = []
    not_modelled = []
    for xml in sorted(fixtures.glob("*.xml")):
        out = tmp / f"{xml.stem}.report.json"
        r = run(boot, xml, "--json", out)
        if r.returncode in (0, 1):
            reports.append(out)
        elif r.returncode == 3:
            not_modelled.append(out)
    check("at least five fixtures boot", len(reports) >= 5, str(len(reports)))
    check("a fixture is not modelled", len(not_modelled) >= 1, str(len(not_modelled)))
    expect_valid(f"{len(reports)} fixtures' reports", "boot-report.schema.json", *reports)
    expect_valid("the not-modelled fixtures' reports", "boot-report.schema.json", *not_modelled)

    # --workload: every pattern, with the built-in costs and with a cost file that gives io_ns.
    costs = tmp / "costs.json"
    costs.write_text('{"kick_ns": 8000, "io_ns": {"disk-4k-randread": 50000, "net-1500": 30000}}')
    workload_reports = []
    for pattern in ("disk-4k-randread", "disk-64k-seqread", "net-1500", "net-64k"):
        for extra in ([], ["--workload-costs", costs]):
            out = tmp / f"workload-{pattern}-{len(extra)}.json"
            r = run(boot, "--workload", pattern, *extra, "--json", out)
            check(f"--workload {pattern} {' '.join(map(str, extra))} writes its report", r.returncode == 1 and out.exists(),
                  r.stderr)
            workload_reports.append(out)
    expect_valid("the --workload reports", "boot-report.schema.json", *workload_reports)

    # A batch over the fixtures, the invalid ones included: the summary and every per-guest file.
    batch = tmp / "batch"
    shutil.copytree(fixtures, batch)
    # ... and a guest whose boot fails (RAM the host cannot map) and an input that is a link (skipped).
    (batch / "huge.xml").write_text(re.sub(r"<memory unit='\w+'>\d+</memory>", "<memory unit='TiB'>1000</memory>",
                                           (fixtures / "q35-topology.xml").read_text()))
    (batch / "link.xml").symlink_to(fixtures / "q35-topology.xml")
    r = run(boot, "--batch", batch, "--out", tmp / "batch-out", "--json", tmp / "summary.json", "-j", "2")
    summary = json.loads((tmp / "summary.json").read_text())
    check("the batch summary has valid, invalid, failed, skipped and not-modelled guests",
          {"invalid", "failed", "skipped", "not-modelled"} < {g["status"] for g in summary}, json.dumps(summary)[:400])
    expect_valid("the batch summary", "batch-summary.schema.json", tmp / "summary.json")
    per_guest = sorted((tmp / "batch-out").glob("*.json"))
    check("the batch wrote a report per booted or not-modelled guest",
          len(per_guest) == len(reports) + len(not_modelled), str(len(per_guest)))
    expect_valid("the batch's per-guest reports", "boot-report.schema.json", *per_guest)

    # --compare-kernels --json: the default guest and the arm64 one (verdicts ok and ERRNO@stage).
    for name, extra in (("default guest", []), ("virt-aarch64", [fixtures / "virt-aarch64.xml"])):
        out = tmp / f"matrix-{name}.json"
        r = run(boot, *extra, "--compare-kernels", "--json", out)
        # Both guests have a VFIO device some kernel rejects: the matrix's worst verdict, 1.
        check(f"--compare-kernels --json for the {name} exits 1", r.returncode == 1, r.stderr)
        expect_valid(f"the {name}'s kernel matrix", "compare-kernels.schema.json", out)
    out = tmp / "matrix-not-modelled.json"
    r = run(boot, fixtures / "q35-intel-iommu.xml", "--compare-kernels", "--json", out)
    check("--compare-kernels --json for a guest behind an intel-iommu exits 3", r.returncode == 3, r.stderr)
    expect_valid("the not-modelled guest's kernel matrix", "compare-kernels.schema.json", out)

    # viommu-replay: every conformance script run now, and the golden files.
    for script in sorted(scripts.glob("*.txt")):
        args_file = script.with_suffix(".args")
        args = args_file.read_text().splitlines() if args_file.exists() else []
        out = tmp / f"{script.stem}.jsonl"
        r = run(replay, *args, script)
        out.write_text(r.stdout)
        check(f"viommu-replay {script.name} exits 0", r.returncode == 0, r.stderr)
        expect_valid(f"viommu-replay's output for {script.name}", "replay-line.schema.json", out, lines=True)
    expect_valid("the golden replay outputs", "replay-line.schema.json", *sorted(scripts.glob("*.jsonl")), lines=True)
    # The forms the golden scripts do not reach: an endpoint that does not exist, a PROBE property list.
    extra = tmp / "extra.jsonl"
    r = subprocess.run([replay, "--endpoints", "8", "--resv", "8:0x1000-0x1fff:reserved", "-"],
                       input="dma 9 0 r\nprobe 8\nbypass 1\nreset\n", capture_output=True, text=True)
    extra.write_text(r.stdout)
    check("viommu-replay: dma to a missing endpoint is an error member", '"error":"endpoint 9' in r.stdout, r.stdout)
    expect_valid("viommu-replay's error, probe, bypass and reset lines", "replay-line.schema.json", extra, lines=True)

    # The profile example of docs/kernel-profiles.md: valid, and viommu-boot takes it.
    text = (source / "docs" / "kernel-profiles.md").read_text()
    examples = [m.group(1) for m in re.finditer(r"```json\n(.*?)```", text, re.S)]
    check("docs/kernel-profiles.md has a profile example", len(examples) >= 1)
    profiles = []
    for i, example in enumerate(examples):
        path = tmp / f"profile-{i}.json"
        path.write_text("\n".join(line.strip() for line in example.splitlines()))
        profiles.append(path)
        r = run(boot, "--kernel", path)
        check(f"viommu-boot accepts the documented profile {i}", r.returncode in (0, 1), r.stderr)
    # The built-in profiles, written out as user files (a user file names itself and has no "source"):
    # the schema must take every form the real data uses, and so must viommu-boot.
    builtin = json.loads((source / "guest-model" / "profiles" / "data" / "profiles.json").read_text())
    for name, body in builtin["profiles"].items():
        path = tmp / f"builtin-{name}.json"
        path.write_text(json.dumps({"name": f"exported-{name}", **{k: v for k, v in body.items() if k != "source"}}))
        profiles.append(path)
        # A profile boots a guest of its own architecture: the default guest is x86_64.
        guest = [source / "tests" / "integration" / "fixtures" / "virt-aarch64.xml"] if body["arch"] == "aarch64" else []
        r = run(boot, *guest, "--kernel", path)
        check(f"viommu-boot accepts the built-in profile {name} as a file", r.returncode in (0, 1), r.stderr)
    expect_valid("the documented and the built-in profiles", "kernel-profile.schema.json", *profiles)
    profile = json.loads(profiles[0].read_text())

    # One broken document per schema, each a mistake the schema exists to catch.
    report = json.loads(default_report.read_text())
    broken = copy.deepcopy(report)
    broken["devices"][0]["dma"]["result"] = "teleported"
    expect_refused("a DMA result outside its enum", "boot-report.schema.json", broken, tmp)
    broken = copy.deepcopy(report)
    broken["iommu"]["colour"] = "blue"
    expect_refused("a field the report does not have", "boot-report.schema.json", broken, tmp)
    broken = copy.deepcopy(report)
    vfio = next(d["vfio"] for d in broken["devices"] if d["vfio"] and not d["vfio"]["admitted"])
    vfio["admitted"] = True
    expect_refused("an admitted verdict that carries an errno", "boot-report.schema.json", broken, tmp)
    broken = copy.deepcopy(report)
    del broken["exit_code"]
    expect_refused("a report without exit_code", "boot-report.schema.json", broken, tmp)
    workload_report = json.loads(workload_reports[0].read_text())
    broken = copy.deepcopy(workload_report)
    broken["workload"]["endpoints"][0]["mode"] = "eager"
    expect_refused("a workload mode outside its enum", "boot-report.schema.json", broken, tmp)
    broken = copy.deepcopy(workload_report)
    broken["workload"]["endpoints"][0]["per_io"]["kicks"] = -1
    expect_refused("a negative count per I/O", "boot-report.schema.json", broken, tmp)

    not_modelled_report = json.loads(not_modelled[0].read_text())
    broken = copy.deepcopy(not_modelled_report)
    del broken["not_modelled"]
    expect_refused("a not-modelled guest without why", "boot-report.schema.json", broken, tmp)
    broken = copy.deepcopy(not_modelled_report)
    broken["exit_code"] = 1
    expect_refused("a not-modelled guest with a verdict's exit code", "boot-report.schema.json", broken, tmp)
    expect_refused("a not-modelled guest without its reason", "batch-summary.schema.json",
                   [{"file": "a.xml", "status": "not-modelled", "guest": "a"}], tmp)
    expect_refused("a guest with status 'maybe'", "batch-summary.schema.json",
                   [{"file": "a.xml", "status": "maybe", "vfio_devices": 1, "vfio_admitted": 0}], tmp)
    expect_refused("an invalid guest without its error", "batch-summary.schema.json",
                   [{"file": "a.xml", "status": "invalid"}], tmp)

    matrix = json.loads((tmp / "matrix-virt-aarch64.json").read_text())
    broken = copy.deepcopy(matrix)
    broken["devices"][0]["kernels"][0]["verdict"] = "EPERM@nowhere"
    expect_refused("a verdict at a stage that does not exist", "compare-kernels.schema.json", broken, tmp)
    broken = copy.deepcopy(matrix)
    del broken["devices"][0]["kernels"][0]["group"]
    expect_refused("a cell without its group", "compare-kernels.schema.json", broken, tmp)

    expect_refused("a status the spec does not name", "replay-line.schema.json",
                   '{"line":1,"op":"map","status":"GREAT"}\n', tmp, lines=True)
    expect_refused("a PROBE answered OK without its properties", "replay-line.schema.json",
                   '{"line":1,"op":"probe","status":"OK"}\n', tmp, lines=True)
    expect_refused("a fault with a flag the spec does not have", "replay-line.schema.json",
                   '{"event":"fault","reason":"mapping","flags":["exec"],"endpoint":8,"address":0}\n', tmp, lines=True)

    broken = dict(profile, config={"MODULES": "y"})
    expect_refused("a configuration key that is not CONFIG_*", "kernel-profile.schema.json", broken, tmp)
    # Ground truth: the recorded real boots and viommu-truth's differences against each (no QEMU).
    recorded = sorted(recordings.glob("*/report.json"))
    check("there are ground-truth recordings", bool(recorded))
    expect_valid(f"{len(recorded)} recorded real boots", "truth-report.schema.json", *recorded)
    diffs = []
    for rec in recorded:
        out = tmp / f"truth-diff-{rec.parent.name}.json"
        r = run(truth, "--recording", rec.parent, "--json", out,
                "--known", source / "tests" / "ground-truth" / "known-differences.json")
        check(f"viommu-truth --recording {rec.parent.name} runs", r.returncode in (0, 1) and out.exists(), r.stderr)
        diffs.append(out)
    expect_valid("viommu-truth's differences for every recording", "truth-diff.schema.json", *diffs)
    real = json.loads(recorded[0].read_text())
    broken = copy.deepcopy(real)
    broken["devices"][0]["domain"] = "DMA-FQQ"
    expect_refused("a domain type sysfs does not write", "truth-report.schema.json", broken, tmp)
    broken = copy.deepcopy(real)
    broken["devices"][0]["vfio"] = {"admitted": True, "stage": "VFIO_SET_IOMMU", "errno": 1}
    expect_refused("an admitted VFIO outcome with a failing stage", "truth-report.schema.json", broken, tmp)
    expect_refused("a difference without its known reason or null", "truth-diff.schema.json",
                   {"schema": 1, "guest": "g", "kernel": "k", "agree": True,
                    "differences": [{"field": "attach_order", "model": "a", "real": "b"}]}, tmp)

    broken = {"name": "no-version"}
    expect_refused("a profile with neither base nor version", "kernel-profile.schema.json", broken, tmp)
    broken = dict(profile, kernel="6.1")
    expect_refused("a misspelt field", "kernel-profile.schema.json", broken, tmp)

for f in failures:
    print("FAIL:", f)
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
