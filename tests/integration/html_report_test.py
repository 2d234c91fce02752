#!/usr/bin/env python3
"""viommu-boot --html in a real browser: Debian's headless chromium loads the report of one guest, of
--compare-kernels and of --batch; the test reads the DOM the page ends with (its script run) for the
verdicts, and takes a screenshot of each. Skipped (exit 77) without chromium; scripts/setup installs it.
Usage: html_report_test.py BUILD_DIR FIXTURES_DIR"""
import pathlib
import shutil
import subprocess
import sys
import tempfile

build = pathlib.Path(sys.argv[1])
fixtures = pathlib.Path(sys.argv[2])
boot = str(build / "tools" / "viommu-boot")
chromium = shutil.which("chromium")
if not chromium:
    print("chromium is not installed (scripts/setup installs it): skipped")
    sys.exit(77)
failures = []


def check(name, ok, detail=""):
    print(f"ok: {name}" if ok else f"FAIL: {name} {detail[:600]}")
    if not ok:
        failures.append(name)


def browser(profile, *args):
    # The flags that keep headless chromium off the network (no updates, no sync, no first-run work).
    return subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)


with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    profile = tmp / "profile"

    def dom(page, fragment=""):
        return browser(profile, "--dump-dom", page.as_uri() + fragment).stdout

    def screenshot(page, name):
        png = tmp / f"{name}.png"
        browser(profile, f"--screenshot={png}", "--window-size=1400,1000", page.as_uri())
        check(f"{name}: a screenshot", png.exists() and png.stat().st_size > 10000)

    one = tmp / "one.html"
    r = subprocess.run([boot, "--html", str(one)], capture_output=True, text=True)
    check("one guest: --html writes the page, the table still on stdout", r.returncode == 1 and one.exists()
          and "DEVICE" in r.stdout, r.stderr)
    text = dom(one)
    check("one guest: the hostdev on the root port rejected at VFIO_SET_IOMMU",
          'data-verdict="0000:03:00.0">rejected: VFIO_SET_IOMMU EPERM' in text, text)
    check("one guest: the rule and its commit", "vfio.type1_isolated_msi" in text and "6b1a7a00427c" in text, text)
    check("one guest: groups drawn as groups", text.count('class="group"') >= 8, text)
    screenshot(one, "guest")

    matrix = tmp / "matrix.html"
    r = subprocess.run([boot, "--compare-kernels", "--html", str(matrix)], capture_output=True, text=True)
    text = dom(matrix) if matrix.exists() else ""
    check("compare-kernels: 5.19 refuses the bind (no cache coherency), 6.12 VFIO_SET_IOMMU, each coloured as a rejection",
          'class="rejected" data-kernel="5.19">EINVAL@bind' in text
          and 'class="rejected" data-kernel="6.12">EPERM@SET_IOMMU' in text, text)
    check("compare-kernels: a device not given to VFIO is not coloured, its group shown",
          'class="none" data-kernel="6.12">g' in text, text)
    screenshot(matrix, "matrix")

    batch_dir = tmp / "batch"
    batch_dir.mkdir()
    for name in ("q35-topology.xml", "malformed.xml", "q35-intel-iommu.xml"):
        shutil.copy(fixtures / name, batch_dir / name)
    summary = tmp / "batch.html"
    r = subprocess.run([boot, "--batch", str(batch_dir), "--out", str(tmp / "out"), "--html", str(summary)],
                       capture_output=True, text=True)
    text = dom(summary) if summary.exists() else ""
    check("batch: one row per guest with its status", text.count("<tr data-status=") == 3
          and 'data-status="invalid"' in text and 'data-status="not-modelled"' in text, text)
    filtered = dom(summary, "#q=malformed")
    hidden = filtered.count('style="display: none;"')
    check("batch: the text filter hides the rows that do not hold it", hidden == 2, filtered)
    screenshot(summary, "batch")

if failures:
    print(f"{len(failures)} failed")
    sys.exit(1)
