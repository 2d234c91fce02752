#!/usr/bin/env python3
"""One logging backend for every tool (README, "Diagnostics"): the tools' own diagnostics and the devices'
guest errors go to stderr only, as "TOOL: message"; --log-level LEVEL (spdlog's names) shows LEVEL and
above, info by default; an unknown level is bad input (exit 2) naming the valid ones; no level changes the
exit status or what stdout carries. Usage: log_level_test.py BUILD_DIR SOURCE_DIR"""
import json
import pathlib
import subprocess
import sys
import tempfile

build, source = pathlib.Path(sys.argv[1]).resolve(), pathlib.Path(sys.argv[2])
tools = build / "tools"
replay, boot, truth, bench = (str(tools / t) for t in ("viommu-replay", "viommu-boot", "viommu-truth", "viommu-bench"))
fixtures = source / "tests" / "integration" / "fixtures"
recording = source / "tests" / "ground-truth" / "recordings" / "default-guest"
levels = "trace, debug, info, warn, error, critical, off"
failures = []


def run(*args, stdin=None):
    return subprocess.run([str(a) for a in args], input=stdin, capture_output=True, text=True)


def check(name, ok, r=None):
    if ok:
        print(f"ok: {name}")
    else:
        detail = f"\n  exit {r.returncode}\n  stdout: {r.stdout[:600]!r}\n  stderr: {r.stderr[:600]!r}" if r else ""
        failures.append(name + detail)


# viommu-replay: a device warning (a guest error: the driver writes a config field whose feature it
# declined) and the request's JSON Lines.
bypass = "bypass 0\nattach 1 8\n"
declined = ["--decline", "bypass-config", "-"]
shown = run(replay, *declined, stdin=bypass)
check("replay: the default shows a device warning on stderr, as TOOL: DEVICE: message",
      shown.returncode == 1 and "viommu-replay: virtio-iommu" in shown.stderr and "BYPASS_CONFIG" in shown.stderr,
      shown)
r = run(replay, "--log-level", "error", *declined, stdin=bypass)
check("replay: --log-level error hides the warning, and the exit status and stdout stay",
      "BYPASS_CONFIG" not in r.stderr and r.returncode == shown.returncode and r.stdout == shown.stdout, r)
check("replay: diagnostics never reach stdout: it stays JSON Lines while a warning is emitted",
      shown.stdout and all(json.loads(line) for line in shown.stdout.splitlines()), shown)
r = run(replay, "--log-level", "debug", "-", stdin="attach 1 8\n")
check("replay: --log-level debug says what was read", r.returncode == 0
      and "viommu-replay: read standard input (11 bytes)\n" in r.stderr and "viommu-replay: 1 steps" in r.stderr, r)
check("replay: the default says nothing at debug level", "read standard input" not in
      run(replay, "-", stdin="attach 1 8\n").stderr)
r = run(replay, "--log-level", "off", "/nonexistent/script")
check("replay: --log-level off silences an error but keeps its exit status", r.returncode == 2 and r.stderr == "", r)
r = run(replay, "--log-level", "verbose", "-", stdin="attach 1 8\n")
check("replay: an unknown level exits 2 naming the valid ones",
      r.returncode == 2 and "'verbose' is not a log level" in r.stderr and levels in r.stderr and r.stdout == "", r)

# viommu-boot: --strict's warning on an unsafe admission, --kernel's info line.
with tempfile.TemporaryDirectory() as tmp:
    unsafe = pathlib.Path(tmp, "unsafe.xml")
    # Without its virtio-net, which on a device tree shares the hostdev's group (docs/boot.md, "arm64:
    # device tree or ACPI"): only the MSI rule decides, and allow_unsafe_interrupts admits it unsafely.
    text = (fixtures / "virt-aarch64-gicv2.xml").read_text()
    text = text[:text.index("<interface")] + text[text.index("</interface>") + len("</interface>"):]
    unsafe.write_text(text.replace("hvm</type>", "hvm</type><cmdline>vfio_iommu_type1.allow_unsafe_interrupts=1</cmdline>"))
    shown = run(boot, unsafe, "--strict", "--json", "-")
    check("boot: the default shows --strict's warning", shown.returncode == 1
          and "viommu-boot: --strict: virt-aarch64-gicv2 admitted a VFIO device only unsafely" in shown.stderr, shown)
    check("boot: diagnostics never reach stdout: --json - stays one JSON document while a warning is emitted",
          json.loads(shown.stdout).get("exit_code") == 0, shown)
    r = run(boot, unsafe, "--strict", "--json", "-", "--log-level", "error")
    check("boot: --log-level error hides the warning, and the exit status and stdout stay",
          "--strict" not in r.stderr and r.returncode == shown.returncode and r.stdout == shown.stdout, r)
    r = run(boot, unsafe, "--strict", "--json", "-", "--log-level", "off")
    check("boot: --log-level off changes neither the exit status nor stdout",
          r.returncode == shown.returncode and r.stdout == shown.stdout and "viommu-boot:" not in r.stderr, r)
r = run(boot, "--kernel", "6.1.0-18-amd64", "--log-level", "warn")
check("boot: --log-level warn hides --kernel's info line", r.returncode == 1 and "--kernel" not in r.stderr, r)
r = run(boot, "--log-level", "debug")
check("boot: --log-level debug names the guest read and the kernel profile resolved",
      "viommu-boot: (built-in default guest): guest viommu-default, x86_64\n" in r.stderr
      and "the default kernel profile of x86_64" in r.stderr and r.returncode == 1, r)
r = run(boot, "--log-level", "loud")
check("boot: an unknown level exits 2 naming the valid ones",
      r.returncode == 2 and "'loud' is not a log level" in r.stderr and levels in r.stderr and r.stdout == "", r)
r = run(boot, "--help")
check("boot --help: --log-level, its levels and its default", "--log-level" in r.stdout and levels in r.stdout
      and "LEVEL=info" in r.stdout, r)

# viommu-truth: a recording boots nothing, so it has no warning to show; its error is the diagnostic.
r = run(truth, "--kernel", "6.6")
check("truth: the default shows an error", r.returncode == 2 and "viommu-truth: no Debian kernel" in r.stderr, r)
r = run(truth, "--kernel", "6.6", "--log-level", "off")
check("truth: --log-level off silences the error but keeps its exit status", r.returncode == 2 and r.stderr == "", r)
r = run(truth, "--recording", recording, "--json", "-", "--log-level", "debug")
check("truth: --log-level debug names the recording and the profile, and stdout stays JSON",
      "viommu-truth: recording " in r.stderr and "model under kernel profile" in r.stderr
      and json.loads(r.stdout).get("schema") == 1, r)
r = run(truth, "--log-level", "chatty")
check("truth: an unknown level exits 2 naming the valid ones",
      r.returncode == 2 and "'chatty' is not a log level" in r.stderr and levels in r.stderr, r)

# viommu-bench: Google Benchmark reads its arguments; --log-level is taken out before.
if pathlib.Path(bench).exists():
    r = run(bench, "--log-level=bogus")
    check("bench: an unknown level exits 2 naming the valid ones",
          r.returncode == 2 and "'bogus' is not a log level" in r.stderr and levels in r.stderr, r)
    with tempfile.TemporaryDirectory() as tmp:
        args = ["--benchmark_filter=virtqueue/ours/pop_push/descs:1$", "--benchmark_min_time=0.001", "--benchmark_out=-"]
        r = subprocess.run([bench, "--log-level", "debug", *args], capture_output=True, text=True, cwd=tmp)
        check("bench: --log-level debug says where the report goes, and stdout stays JSON",
              r.returncode == 0 and "viommu-bench: --benchmark_out=-: the report on standard output" in r.stderr
              and json.loads(r.stdout).get("benchmarks"), r)
        r = subprocess.run([bench, "--log-level=error", *args], capture_output=True, text=True, cwd=tmp)
        check("bench: --log-level=error is taken too, and the debug line is gone",
              r.returncode == 0 and "viommu-bench:" not in r.stderr, r)

if failures:
    print("\n".join(failures))
    sys.exit(1)
