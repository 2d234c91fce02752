#!/usr/bin/env python3
"""meson install: the tools, a man page per tool (when help2man is there, scripts/setup installs it, and
the build is not sanitized),
bash completion that completes each tool's options and viommu-boot's kernel profiles, the JSON Schemas
and the kernel profile data. Usage: install_test.py BUILD_DIR"""
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

build = pathlib.Path(sys.argv[1])
failures = []


def check(name, ok, detail=""):
    print(f"ok: {name}" if ok else f"FAIL: {name} {detail[:600]}")
    if not ok:
        failures.append(name)


with tempfile.TemporaryDirectory() as tmp:
    r = subprocess.run(["meson", "install", "-C", str(build), "--destdir", tmp, "--no-rebuild", "--quiet"],
                       capture_output=True, text=True)
    check("meson install succeeds", r.returncode == 0, r.stdout + r.stderr)
    files = {str(p.relative_to(tmp)) for p in pathlib.Path(tmp).rglob("*") if p.is_file()}

    def installed(suffix):
        return [f for f in files if f.endswith(suffix)]

    options = json.loads((build / "meson-info" / "intro-buildoptions.json").read_text())
    sanitized = any(o["name"] == "b_sanitize" and o["value"] != "none" for o in options)
    tools = ["viommu-boot", "viommu-replay", "viommu-truth"]
    for tool in tools:
        check(f"{tool} is installed", installed(f"bin/{tool}"))
        check(f"{tool}'s bash completion", installed(f"bash-completion/completions/{tool}"))
        if shutil.which("help2man") and not sanitized:
            page = installed(f"man1/{tool}.1")
            check(f"{tool}'s man page", page and "\\-\\-help" in pathlib.Path(tmp, page[0]).read_text(), str(page))
    for schema in ("boot-report", "compare-kernels", "batch-summary", "replay-line", "kernel-profile"):
        check(f"the {schema} schema", installed(f"viommu/schemas/{schema}.schema.json"))
    check("the kernel profiles", installed("viommu/profiles/profiles.json") and installed("viommu/profiles/facts.json"))

    # The completion, as bash runs it: options from --help, profiles from --list-kernels.
    completion = pathlib.Path(tmp, installed("completions/viommu-boot")[0])
    script = (f"PATH={build / 'tools'}:$PATH; source {completion}; "
              "COMP_WORDS=(viommu-boot --compare-k); COMP_CWORD=1; _viommu; echo \"${COMPREPLY[@]}\"; "
              "COMP_WORDS=(viommu-boot -k debian-12-6); COMP_CWORD=2; _viommu; echo \"${COMPREPLY[@]}\"")
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    lines = r.stdout.splitlines()
    check("completion: an option from the tool's --help", len(lines) == 2 and lines[0] == "--compare-kernels", r.stdout)
    check("completion: a kernel profile from --list-kernels",
          len(lines) == 2 and "debian-12-6.12" in lines[1].split(), r.stdout)

if failures:
    print(f"{len(failures)} failed")
    sys.exit(1)
