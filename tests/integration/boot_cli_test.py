#!/usr/bin/env python3
"""viommu-boot end to end: the default guest, fixtures under tests/integration/fixtures, the exit codes
(0 admitted, 1 rejected, 2 bad input, 3 not modelled; --strict; the worst across --compare-kernels), --json
(and --json -), --compare-kernels (and its --json matrix), options that mean nothing together, --kernel
as a uname release or a kernel configuration, and a batch of 200 generated guests whose results do not
depend on the number of threads. Usage: boot_cli_test.py BUILD_DIR FIXTURES_DIR"""
import gzip
import json
import pathlib
import random
import subprocess
import sys
import tempfile

build = pathlib.Path(sys.argv[1])
fixtures = pathlib.Path(sys.argv[2])
boot = str(build / "tools" / "viommu-boot")
failures = []


def run(*args):
    return subprocess.run([boot, *map(str, args)], capture_output=True, text=True)


def without_interface(fixture, tmp):
    """The fixture's guest without its virtio-net: on a device tree every device below the root ports
    shares one group (docs/boot.md, "arm64: device tree or ACPI"), and with the virtio-net bound beside it
    the hostdev's group is not viable; alone, only the MSI rules decide."""
    text = fixture.read_text()
    start, end = text.index("<interface"), text.index("</interface>") + len("</interface>")
    alone = pathlib.Path(tmp, "alone-" + fixture.name)
    alone.write_text(text[:start] + text[end:])
    return alone


def check(name, ok, r=None):
    if ok:
        print(f"ok: {name}")
    else:
        detail = f"\n  exit {r.returncode}\n  stdout: {r.stdout[:800]!r}\n  stderr: {r.stderr[:800]!r}" if r else ""
        failures.append(name + detail)


# The default guest: said so, a table, the VFIO hostdev on a root port refused at VFIO_SET_IOMMU, the one
# behind the pcie-to-pci-bridge without a group.
r = run()
check("default guest says so", "built-in default guest" in r.stdout, r)
check("default guest exits 1 (a VFIO device rejected)", r.returncode == 1, r)
check("default guest: the table", "DEVICE" in r.stdout and "GROUP" in r.stdout and "VFIO" in r.stdout, r)
check("default guest: EPERM at VFIO_SET_IOMMU", "VFIO REJECTED at VFIO_SET_IOMMU with EPERM" in r.stdout, r)
check("default guest: no group behind the bridge", "PROBEs its own requester ID" in r.stdout, r)
check("default guest: the kernel's message", "No interrupt remapping support." in r.stdout, r)
check("default guest: the remedies name the isolating alternative viommu does not model",
      "change: an IOMMU that isolates MSIs by interrupt remapping instead of the virtio-iommu: QEMU's intel-iommu "
      "with intremap=on (libvirt: <iommu model='intel'><driver intremap='on'/></iommu> and <features><ioapic "
      "driver='qemu'/></features>), which viommu does not model" in r.stdout, r)

r = run("--help")
check("--help documents the exit statuses", r.returncode == 0 and "Exit status: 0" in r.stdout
      and "3 a guest viommu does not model" in r.stdout, r)

# A guest behind another IOMMU: not modelled, said with the model and why, no verdict, exit 3.
intel = fixtures / "q35-intel-iommu.xml"
r = run(intel)
check("an intel-iommu guest: not modelled, exit 3",
      r.returncode == 3 and r.stdout == "guest q35-intel-iommu: not modelled: <iommu model='intel'> is QEMU's "
      "intel-iommu (Intel VT-d); viommu models only the virtio-iommu, so it gives no groups, DMA or VFIO verdicts "
      "for a guest behind another IOMMU\n" and r.stderr == "", r)
check("an intel-iommu guest: no table, no verdict",
      "DEVICE" not in r.stdout and "REJECTED" not in r.stdout and "admitted" not in r.stdout, r)
with tempfile.TemporaryDirectory() as tmp:
    r = run(intel, "--json", pathlib.Path(tmp, "intel.json"))
    doc = json.loads(pathlib.Path(tmp, "intel.json").read_text()) if r.returncode == 3 else {}
check("an intel-iommu guest: the JSON says not modelled, exit code 3",
      doc.get("exit_code") == 3 and doc.get("guest") == "q35-intel-iommu"
      and doc.get("not_modelled", "").startswith("<iommu model='intel'>") and "devices" not in doc, r)
r = run(intel, "--compare-kernels")
check("--compare-kernels on an intel-iommu guest: not modelled, exit 3",
      r.returncode == 3 and "not modelled" in r.stdout and "EPERM" not in r.stdout, r)
r = run(fixtures / "virt-aarch64.xml", intel)
check("several guests: a not-modelled one makes the exit status 3", r.returncode == 3, r)

# --device-profile: the report names a profile other than the spec's; an unknown one is refused.
r = run("--device-profile", "qemu-7.2", "--json", "/dev/stdout")
check("--device-profile qemu-7.2: the report says so", "(device profile qemu-7.2)" in r.stdout, r)
check("--device-profile qemu-7.2: so does the JSON", '"device_profile": "qemu-7.2"' in r.stdout, r)
check("the default profile is not named", "device profile" not in run().stdout)
r = run("--device-profile", "nope")
check("--device-profile nope: exit 2", r.returncode == 2 and "unknown device profile 'nope'" in r.stderr, r)

r = run("--log")
check("--log prints dmesg", "virtio_iommu virtio0: page mask: 0xfffffffffffff000" in r.stdout, r)

r = run("--kernel", "debian-12-6.12", "--trace", "no_such_point")
check("--trace unknown point exits 2", r.returncode == 2, r)
r = run("--kernel", "99.x")
check("--kernel garbage exits 2", r.returncode == 2 and "--kernel" in r.stderr, r)
r = run("--frobnicate")
check("unknown flag exits 2", r.returncode == 2, r)
r = run("--kernel", "/dev/zero")
check("--kernel FILE is read up to a cap", r.returncode == 2 and "larger than 1 MiB" in r.stderr, r)
r = run("/dev/zero")
check("domain XML is read up to virsh's cap", r.returncode == 2 and "larger than 10 MiB" in r.stderr, r)
with tempfile.TemporaryDirectory() as tmp:
    # A profile's name is the user's text: shown whole and escaped, never cutting the table short.
    profile = pathlib.Path(tmp, "p.json")
    profile.write_text(json.dumps({"name": "evil\u0000\u001b[2Jname", "base": "debian-12-6.12"}))
    r = run("--kernel", profile)
    check("a profile name's NUL and ESC are escaped in the table",
          "(evil\\x00\\x1b[2Jname)" in r.stdout and "\x1b" not in r.stdout and "VFIO REJECTED" in r.stdout, r)
# Architectures: a guest boots only a kernel built for it; without --kernel it gets its own default.
alone_dir = tempfile.TemporaryDirectory()
aarch64 = without_interface(fixtures / "virt-aarch64.xml", alone_dir.name)
r = run(aarch64)
check("an aarch64 guest without --kernel boots the default arm64 profile",
      r.returncode == 0 and "(debian-12-6.12-arm64)" in r.stdout, r)
check("the x86_64 default guest without --kernel still boots debian-12-6.12", "(debian-12-6.12)" in run().stdout)
r = run(aarch64, "--kernel", "6.12")
check("an x86_64 profile on an aarch64 guest is refused (exit 2) and says why",
      r.returncode == 2 and 'kernel profile "6.12" is built for x86_64' in r.stderr
      and "debian-12-6.12-arm64" in r.stderr and r.stdout == "", r)
r = run("--kernel", "6.12-arm64")
check("an aarch64 profile on the x86_64 default guest is refused (exit 2)",
      r.returncode == 2 and 'is built for aarch64, but guest "viommu-default" is an x86_64 guest' in r.stderr, r)
r = run(aarch64, "--kernel", "6.1.50")
check("a bare version names no architecture and boots either guest",
      r.returncode == 0 and "(6.1.50)" in r.stdout and run("--kernel", "6.1.50").returncode == 1, r)
with tempfile.TemporaryDirectory() as tmp:
    # A batch of both architectures: without --kernel each guest boots its own default; with an x86_64
    # kernel the aarch64 guest is invalid input (exit 2) and the x86_64 one still boots.
    mixed = pathlib.Path(tmp, "mixed")
    mixed.mkdir()
    (mixed / "arm.xml").write_text(aarch64.read_text())
    (mixed / "x86.xml").write_text((fixtures / "q35-no-iommu-devices.xml").read_text())
    r = run("--batch", mixed, "--out", pathlib.Path(tmp, "out"))
    check("--batch of both architectures, no --kernel: each guest boots its default",
          r.returncode == 0 and "2 guests: 2 admitted" in r.stdout, r)
    r = run("--batch", mixed, "--out", pathlib.Path(tmp, "out"), "--kernel", "6.12")
    check("--batch --kernel 6.12: the aarch64 guest is invalid, said why, exit 2",
          r.returncode == 2 and "1 admitted, 0 rejected, 1 invalid" in r.stdout
          and 'kernel profile "6.12" is built for x86_64' in r.stdout, r)

r = run("--list-kernels")
lines = {line.split()[0]: line.split()[1] for line in r.stdout.splitlines()}
check("--list-kernels shows each profile's architecture",
      lines.get("6.12") == "x86_64" and lines.get("6.12-arm64") == "aarch64"
      and lines.get("debian-12-arm64") == "aarch64" and lines.get("6.19") == "x86_64"
      and lines.get("6.19-arm64") == "aarch64", r)
r = run("--help")
check("--help names each architecture's default kernel",
      "debian-12-6.12 for x86_64 guests" in r.stdout and "debian-12-6.12-arm64 for" in r.stdout, r)

r = run(fixtures / "nonexistent.xml")
check("missing file exits 2", r.returncode == 2, r)

# Invalid XML: libvirt's own message, exit 2.
r = run(fixtures / "malformed.xml")
check("malformed XML: libvirt's message, exit 2", r.returncode == 2 and "Opening and ending tag mismatch" in r.stderr, r)
r = run(fixtures / "invalid-schema.xml")
check("schema violation: libvirt's message, exit 2",
      r.returncode == 2 and "failed to validate against schema" in r.stderr, r)
for name in ("malformed.xml", "invalid-schema.xml"):
    r = run(fixtures / name)
    check(f"{name}: libvirt's message has no stray \"(null)\" or blank line",
          r.returncode == 2 and "(null)" not in r.stderr and "\n\n" not in r.stderr and r.stderr.endswith("content\n"
          if name == "invalid-schema.xml" else "^\n"), r)
with tempfile.TemporaryDirectory() as tmp:
    empty = pathlib.Path(tmp, "empty.xml")
    empty.write_text("")
    r = run(empty)
check("an empty file: libvirt's message without the \"(null)\" where the document's line would be",
      r.returncode == 2 and r.stderr == f"viommu-boot: {empty}: (domain_definition):1: Document is empty\n", r)

# boot-bypass from the domain XML: off, the same guest's report shows the firmware's and the unattached
# device's faults, each device named with the reason QEMU 7.2 gives.
off_xml = (fixtures / "q35-boot-bypass-off.xml").read_text()
off = run(fixtures / "q35-boot-bypass-off.xml")
check("boot-bypass off: the faults, named, with QEMU 7.2's reason",
      off.returncode == 0 and "(boot-bypass off)" in off.stdout and "DMA faults with boot-bypass off: 2" in off.stdout
      and "0000:00:04.0 (<disk> vda): firmware read at 0x40000000 (endpoint 0x0020): reason UNKNOWN" in off.stdout
      and "0000:01:01.0 (<interface type='user'> #1): fault at " in off.stdout, off)
with tempfile.TemporaryDirectory() as tmp:
    on_file = pathlib.Path(tmp, "on.xml")
    on_file.write_text(off_xml.replace("virtio-iommu-pci.boot-bypass=off", "virtio-iommu-pci.boot-bypass=on"))
    on = run(on_file)
    check("boot-bypass on: the same guest's report differs, without faults",
          on.returncode == 0 and on.stdout != off.stdout and "DMA faults" not in on.stdout
          and "bypassed" in on.stdout, on)
    aw = pathlib.Path(tmp, "aw.xml")
    aw.write_text(off_xml.replace("device-profile='qemu-7.2'", "device-profile='qemu-7.2' aw-bits='48'"))
    r = run(aw)
    check("aw-bits under QEMU 7.2: refused with the reason, exit 2",
          r.returncode == 2 and "QEMU 7.2 cannot be given an input range" in r.stderr, r)
    r = run(aw, "--device-profile", "qemu-9.1")
    check("aw-bits under --device-profile qemu-9.1: taken", r.returncode == 0 and "(device profile qemu-9.1)" in r.stdout, r)
r = run(fixtures / "invalid-iommu-driver.xml")
check("<driver> options on a virtio-iommu: libvirt's refusal, and how to write them for this libvirt",
      r.returncode == 2 and "doesn't support additional attributes (libvirt 9." in r.stderr
      and "<viommu:iommu boot-bypass='off'" in r.stderr, r)

# A guest with only non-IOMMU devices: nothing to admit, exit 0.
r = run(fixtures / "q35-no-iommu-devices.xml")
check("only non-IOMMU devices: exit 0", r.returncode == 0, r)

with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    # The fix's guest: arm64 with an ITS (MSIs isolated) and the hostdev's group viable, so only the
    # capability decides.
    aarch64 = without_interface(fixtures / "virt-aarch64.xml", tmp)
    r = run(aarch64, "--kernel", "5.19.8", "--json", tmp / "old.json")
    check("5.19.8 without the fix rejects (exit 1)", r.returncode == 1, r)
    old = json.loads((tmp / "old.json").read_text())
    vfio = [d["vfio"] for d in old["devices"] if d["vfio"]]
    check("5.19.8: EINVAL at the bind, rule and commit",
          len(vfio) == 1 and vfio[0]["error"] == "EINVAL" and vfio[0]["rule"] == "vfio.requires_cache_coherency"
          and vfio[0]["commit"].startswith("e8ae0e140c05"), r)
    r = run(aarch64, "--kernel", "5.19.9-arm64", "--json", tmp / "new.json")
    check("5.19.9 with the fix admits (exit 0)", r.returncode == 0, r)
    new = json.loads((tmp / "new.json").read_text())
    check("JSON report: schema, exit code", new["schema"] == 1 and new["exit_code"] == 0, r)

    # The whole fixture: its virtio-net shares the hostdev's group on a device tree wherever it binds
    # with an IOMMU (from 6.0), so the matrix has three verdicts.
    aarch64 = fixtures / "virt-aarch64.xml"
    r = run(aarch64, "--compare-kernels")
    check("--compare-kernels: a matrix with both verdicts",
          r.returncode == 1 and "EINVAL@bind" in r.stdout and " ok " in r.stdout + " ", r)
    table = r.stdout
    check("--compare-kernels: an aarch64 guest boots the aarch64 profiles only, and says so",
          "per aarch64 kernel" in table and table.splitlines()[2].split()[1:]
          == [k for k in table.splitlines()[2].split()[1:] if k.endswith("-arm64")] and "debian-12-6.12-arm64" in table, r)
    r = run("--compare-kernels")
    check("--compare-kernels: an x86_64 guest boots the x86_64 profiles only",
          "-arm64" not in r.stdout and "debian-12-6.12" in r.stdout and "per kernel" in r.stdout, r)
    r = run(aarch64, "--compare-kernels", "--json", tmp / "matrix.json")
    check("--compare-kernels --json: the same table, the same exit status", r.returncode == 1 and r.stdout == table, r)
    matrix = json.loads((tmp / "matrix.json").read_text())
    kernels = table.splitlines()[2].split()[1:]
    rows = [line.split(" (", 1)[0] for line in table.splitlines()[3:]]
    check("--compare-kernels --json: the kernels in the table's order (profiles.json's)",
          matrix["kernels"] == kernels and all([c["kernel"] for c in d["kernels"]] == kernels for d in matrix["devices"]))
    check("--compare-kernels --json: one object per row of the table", [d["bdf"] for d in matrix["devices"]] == rows)
    check("--compare-kernels --json: the guest's architecture", matrix["arch"] == "aarch64")
    hostdev = [d for d in matrix["devices"] if any(c["verdict"] for c in d["kernels"])]
    by_kernel = {c["kernel"]: c for c in hostdev[0]["kernels"]} if len(hostdev) == 1 else {}
    check("--compare-kernels --json: the hostdev's verdict and group per kernel, as the table has them",
          by_kernel.get("5.19-arm64", {}).get("verdict") == "EINVAL@bind"
          and by_kernel.get("5.18-arm64", {}).get("verdict") == "ok" and isinstance(by_kernel["5.18-arm64"]["group"], int)
          and by_kernel.get("6.0-arm64", {}).get("verdict") == "EPERM@SET_CONTAINER", r)
    check("--compare-kernels --json: a device not given to VFIO has a null verdict",
          any(c["verdict"] is None and c["group"] is not None for d in matrix["devices"] for c in d["kernels"]))

    # --vfio-user: the three user paths, chosen per run, over the description's <viommu:vfio backend>.
    r = run("--vfio-user", "container")
    check("--vfio-user container: exit 2", r.returncode == 2 and "--vfio-user" in r.stderr, r)
    r = run("--vfio-user", "iommufd", "--json", tmp / "cdev.json")
    check("--vfio-user iommufd on Debian 12's 6.12 (no CONFIG_IOMMUFD): ENOENT opening the cdev, exit 1",
          r.returncode == 1 and "VFIO user: iommufd: /dev/vfio/devices/vfioN" in r.stdout
          and "VFIO REJECTED at open /dev/vfio/devices/vfioN with ENOENT" in r.stdout, r)
    report = json.loads((tmp / "cdev.json").read_text())
    check("--vfio-user iommufd: the JSON report names the path",
          report["vfio_user"] == "iommufd"
          and any(d["vfio"] and d["vfio"]["rule"] == "vfio.device_cdev" for d in report["devices"]), r)
    check("the default path is type1, and the table says so", "VFIO user: type1: /dev/vfio/vfio" in run().stdout)
    r = run(fixtures / "q35-topology.xml", "--vfio-user", "type1")
    check("--vfio-user overrides <viommu:vfio backend='iommufd'>", "VFIO user: type1:" in r.stdout, r)
    r = run(fixtures / "q35-topology.xml")
    check("<viommu:vfio backend='iommufd'> without the option", "VFIO user: iommufd:" in r.stdout, r)
    iommufd_kernel = tmp / "iommufd.json"
    iommufd_kernel.write_text(json.dumps({"name": "6.12-iommufd", "base": "6.12",
                                          "config": {"CONFIG_IOMMUFD": "m", "CONFIG_VFIO_DEVICE_CDEV": "y"}}))
    r = run("--kernel", iommufd_kernel, "--vfio-user", "iommufd-compat")
    check("--vfio-user iommufd-compat with CONFIG_IOMMUFD: EPERM inside VFIO_GROUP_GET_DEVICE_FD",
          r.returncode == 1 and "VFIO REJECTED at VFIO_GROUP_GET_DEVICE_FD with EPERM" in r.stdout
          and "vfio.iommufd_isolated_msi_at_bind" in r.stdout, r)
    r = run("--kernel", iommufd_kernel, "--vfio-user", "iommufd")
    check("--vfio-user iommufd with the cdev: EPERM at VFIO_DEVICE_BIND_IOMMUFD",
          r.returncode == 1 and "VFIO REJECTED at VFIO_DEVICE_BIND_IOMMUFD with EPERM" in r.stdout, r)
    iommufd_arm64_kernel = tmp / "iommufd-arm64.json"
    iommufd_arm64_kernel.write_text(json.dumps({"name": "6.12-arm64-iommufd", "base": "6.12-arm64",
                                                "config": {"CONFIG_IOMMUFD": "m", "CONFIG_VFIO_DEVICE_CDEV": "y"}}))
    r = run(without_interface(aarch64, tmp), "--kernel", iommufd_arm64_kernel, "--vfio-user", "iommufd")
    check("--vfio-user iommufd on arm64 with an ITS: admitted (exit 0)", r.returncode == 0, r)
    r = run(aarch64, "--compare-kernels", "--vfio-user", "iommufd-compat", "--json", tmp / "compat.json")
    compat = json.loads((tmp / "compat.json").read_text())
    check("--compare-kernels --vfio-user iommufd-compat: the path in the table and the JSON, ENOENT without iommufd",
          "VFIO user iommufd-compat" in r.stdout.splitlines()[0] and compat["vfio_user"] == "iommufd-compat"
          and "ENOENT@open /dev/iommu" in r.stdout, r)

    # 200 generated guests, booted with 1 and with 8 threads: the same reports, byte for byte.
    rng = random.Random(7)
    guests = tmp / "guests"
    guests.mkdir()
    for i in range(200):
        ports = rng.randint(1, 4)
        controllers = [f"<controller type='pci' index='0' model='pcie-root'/>"]
        devices = []
        for p in range(1, ports + 1):
            mf = " multifunction='on'" if p == 1 else ""
            controllers.append(
                f"<controller type='pci' index='{p}' model='pcie-root-port'><target chassis='{p}' port='0x{8 + p:x}'/>"
                f"<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x{p - 1:x}'{mf}/>"
                f"</controller>")
        bridge = rng.random() < 0.5
        if bridge:
            controllers.append(f"<controller type='pci' index='{ports + 1}' model='pcie-to-pci-bridge'>"
                               f"<address type='pci' domain='0x0000' bus='0x{ports:02x}' slot='0x00' function='0x0'/>"
                               f"</controller>")
        for p in range(1, ports + (0 if bridge else 1)):
            if rng.random() < 0.5:
                devices.append(f"<hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/><source>"
                               f"<address domain='0x0000' bus='0x{0x40 + p:02x}' slot='0x00' function='0x0'/></source>"
                               f"<address type='pci' domain='0x0000' bus='0x{p:02x}' slot='0x00' function='0x0'/></hostdev>")
            else:
                devices.append(f"<interface type='user'><model type='virtio'/><driver iommu='on'/>"
                               f"<address type='pci' domain='0x0000' bus='0x{p:02x}' slot='0x00' function='0x0'/>"
                               f"</interface>")
        if bridge:
            devices.append(f"<hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/><source>"
                           f"<address domain='0x0000' bus='0x70' slot='0x00' function='0x0'/></source>"
                           f"<address type='pci' domain='0x0000' bus='0x{ports + 1:02x}' slot='0x01' function='0x0'/>"
                           f"</hostdev>")
        iommu = "<iommu model='virtio'><address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></iommu>" \
            if rng.random() < 0.8 else ""
        cmdline = "<cmdline>vfio_iommu_type1.allow_unsafe_interrupts=1</cmdline>" if rng.random() < 0.3 else ""
        (guests / f"guest-{i:03d}.xml").write_text(
            f"<domain type='kvm'><name>guest-{i:03d}</name><memory unit='MiB'>512</memory>"
            f"<os><type arch='x86_64' machine='q35'>hvm</type>{cmdline}</os><devices>"
            + "".join(controllers) + "".join(devices) + iommu + "</devices></domain>\n")
    one, eight = tmp / "j1", tmp / "j8"
    r1 = run("--batch", guests, "--out", one, "-j", "1", "--json", tmp / "s1.json")
    r8 = run("--batch", guests, "--out", eight, "-j", "8", "--json", tmp / "s8.json")
    check("batch: 200 guests booted, none invalid", "200 guests:" in r1.stdout and " 0 invalid" in r1.stdout, r1)
    check("batch: exit code says a guest was rejected", r1.returncode in (0, 1) and r1.returncode == r8.returncode, r8)
    check("batch: -j1 and -j8 print the same", r1.stdout == r8.stdout, r8)
    same = all((eight / f.name).is_file() and (one / f.name).read_bytes() == (eight / f.name).read_bytes()
               for f in one.glob("*.json"))
    check("batch: -j1 and -j8 write the same per-guest JSON", same and len(list(one.glob("*.json"))) == 200)
    check("batch: the same summary", (tmp / "s1.json").read_bytes() == (tmp / "s8.json").read_bytes())
    r = run("--batch", tmp / "none")
    check("batch: a missing directory exits 2", r.returncode == 2, r)

    # A hostile batch directory: a guest whose boot fails, inputs that are not regular files, and an output
    # name that is a link to a file the user never meant to write.
    hostile = tmp / "hostile"
    hostile.mkdir()
    good = (guests / "guest-000.xml").read_text()
    (hostile / "good.xml").write_text(good)
    (hostile / "huge.xml").write_text(good.replace("<memory unit='MiB'>512</memory>", "<memory unit='TiB'>1000</memory>"))
    secret = tmp / "secret.txt"
    secret.write_text("secret-first-line\n")
    (hostile / "link.xml").symlink_to(secret)
    (hostile / "dir.xml").mkdir()
    victim = tmp / "victim.txt"
    victim.write_text("untouched\n")
    (hostile / "good.json").symlink_to(victim)
    r = run("--batch", hostile, "-j", "2", "--json", tmp / "hostile.json")
    summary = {pathlib.Path(e["file"]).name: e for e in json.loads((tmp / "hostile.json").read_text())}
    check("batch: a guest whose boot fails is that guest's result, the batch goes on (exit 2)",
          r.returncode == 2 and summary["huge.xml"]["status"] == "failed"
          and "cannot map" in summary["huge.xml"]["error"] and summary["good.xml"]["status"] in ("admitted", "rejected"),
          r)
    check("batch: a symbolic link is not followed, and is reported",
          summary["link.xml"]["status"] == "skipped" and "symbolic link" in summary["link.xml"]["error"]
          and "secret-first-line" not in r.stdout + r.stderr + (tmp / "hostile.json").read_text(), r)
    check("batch: a directory named *.xml is reported, not skipped silently",
          summary["dir.xml"]["status"] == "skipped" and "directory" in summary["dir.xml"]["error"], r)
    check("batch: an output that is a link is replaced, its target left alone",
          victim.read_text() == "untouched\n" and not (hostile / "good.json").is_symlink()
          and json.loads((hostile / "good.json").read_text())["guest"] == "guest-000", r)
    check("batch: the summary line counts what failed and what was skipped",
          "1 failed, 2 skipped" in r.stdout, r)

    # A batch with a guest viommu does not model: its own result kind, and exit 3 over a rejection.
    mixed = tmp / "mixed"
    mixed.mkdir()
    (mixed / "other.xml").write_text(good)
    (mixed / "intel.xml").write_text(intel.read_text())
    r = run("--batch", mixed, "-j", "1", "--json", tmp / "mixed.json")
    summary = {pathlib.Path(e["file"]).name: e for e in json.loads((tmp / "mixed.json").read_text())}
    check("batch: a not-modelled guest is its own kind, named with why",
          summary["intel.xml"] == {"file": str(mixed / "intel.xml"), "status": "not-modelled",
                                   "guest": "q35-intel-iommu", "reason": summary["intel.xml"].get("reason")}
          and summary["intel.xml"]["reason"].startswith("<iommu model='intel'> is QEMU's intel-iommu"), r)
    check("batch: the tally counts it", "1 not modelled" in r.stdout
          and "intel" + " " * 35 + " not modelled: <iommu model='intel'>" in r.stdout, r)
    check("batch: its per-guest JSON says not modelled",
          json.loads((mixed / "intel.json").read_text())["exit_code"] == 3, r)
    check("batch: a not-modelled guest makes the batch exit 3", r.returncode == 3, r)

# What a CI job relies on: exit statuses it can trust, no option silently ignored, JSON on stdout.
aarch64 = fixtures / "virt-aarch64.xml"
r = run(aarch64, "--compare-kernels")
check("--compare-kernels exits with the worst verdict of its kernels: 1 when one rejects",
      r.returncode == 1 and "EINVAL@bind" in r.stdout and " ok " in r.stdout, r)
r = run(fixtures / "q35-no-iommu-devices.xml", "--compare-kernels")
check("--compare-kernels exits 0 when no kernel rejects a device", r.returncode == 0 and "DEVICE" in r.stdout, r)
r = run(aarch64, "--compare-kernels", "--json", "-")
matrix = json.loads(r.stdout) if r.stdout.startswith("{") else {}
check("--compare-kernels --json -: the matrix alone on stdout, the table on stderr, the same exit status",
      r.returncode == 1 and matrix.get("guest") == "virt-aarch64" and "EINVAL@bind" in r.stderr, r)
with tempfile.TemporaryDirectory() as tmp:
    r = run("--json", "-")
    report = json.loads(r.stdout) if r.stdout.startswith("{") else {}
    check("--json -: the report alone on stdout, no file named '-'", r.returncode == 1 and report.get("exit_code") == 1
          and "DEVICE" in r.stderr and "built-in default guest" in r.stderr and not pathlib.Path("-").exists(), r)
    unsafe = pathlib.Path(tmp, "unsafe.xml")
    unsafe.write_text(without_interface(fixtures / "virt-aarch64-gicv2.xml", tmp).read_text().replace(
        "hvm</type>", "hvm</type><cmdline>vfio_iommu_type1.allow_unsafe_interrupts=1</cmdline>"))
    r = run(unsafe)
    check("an unsafe admission (ok!) is an admission without --strict", r.returncode == 0
          and "admitted (unsafe)" in r.stdout, r)
    r = run(unsafe, "--strict")
    check("--strict: an unsafe admission counts as a rejection, and says so on stderr",
          r.returncode == 1 and "admitted (unsafe)" in r.stdout and "--strict" in r.stderr, r)
    r = run(unsafe, "--compare-kernels", "--kernel", "6.1-arm64")
    check("--kernel with --compare-kernels: exit 2 naming both",
          r.returncode == 2 and "--kernel" in r.stderr and "--compare-kernels" in r.stderr, r)
    batch_dir = pathlib.Path(tmp, "unsafe-batch")
    batch_dir.mkdir()
    (batch_dir / "unsafe.xml").write_text(unsafe.read_text())
    r = run("--batch", batch_dir, "--kernel", "6.12-arm64")
    check("--batch: an unsafe admission is an admission without --strict", r.returncode == 0, r)
    r = run("--batch", batch_dir, "--kernel", "6.12-arm64", "--strict", "--json", "-")
    summary = json.loads(r.stdout) if r.stdout.startswith("[") else []
    check("--batch --strict: an unsafe admission makes the batch exit 1; --json - puts the summary on stdout",
          r.returncode == 1 and len(summary) == 1 and "1 guests:" in r.stderr, r)
    empty_dir = pathlib.Path(tmp, "no-xml")
    empty_dir.mkdir()
    (empty_dir / "notes.txt").write_text("not a guest\n")
    r = run("--batch", empty_dir)
    check("--batch on a directory without *.xml: exit 2, saying so",
          r.returncode == 2 and "no *.xml file" in r.stderr and r.stdout == "", r)
for args, first, second in [(["--out", "/tmp"], "--out", "--batch"), (["-j", "2"], "--jobs", "--batch"),
                            ([aarch64, "--list-kernels"], "--list-kernels", "domain"),
                            (["--list-kernels", "--kernel", "6.1"], "--list-kernels", "--kernel"),
                            (["--list-kernels", "--json", "-"], "--list-kernels", "--json"),
                            (["--compare-kernels", "--log"], "--compare-kernels", "--log"),
                            (["--compare-kernels", "--dyndbg"], "--compare-kernels", "--dyndbg"),
                            (["--batch", fixtures, "--log"], "--batch", "--log"),
                            (["--batch", fixtures, aarch64], "--batch", "domain"),
                            (["--batch", fixtures, "--compare-kernels"], "--batch", "--compare-kernels"),
                            (["--dyndbg"], "--dyndbg", "--log")]:
    r = run(*args)
    check(f"{' '.join(map(str, args))}: an option with no effect is an error naming both",
          r.returncode == 2 and first in r.stderr and second in r.stderr and r.stdout == "", r)
r = run("--dyndbg", "--json", "/dev/null")
check("--dyndbg with --json: the report's dmesg shows it, so it is taken", r.returncode == 1, r)
# --kernel as users have it: what `uname -r` prints, and the kernel's own configuration.
for release, profile in [("6.1.0-18-amd64", "debian-12"), ("6.12.12+bpo-amd64", "debian-12-6.12"),
                         ("6.12.117+deb12-amd64", "debian-12-6.12"), ("6.8.0-45-generic", "6.8"),
                         ("6.11.4-301.fc41.x86_64", "6.11.4")]:
    r = run("--kernel", release, "--json", "-")
    report = json.loads(r.stdout) if r.stdout.startswith("{") else {}
    check(f"--kernel {release}: profile {profile}, named with why on stderr",
          report.get("kernel") == profile and f"--kernel: {release} is " in r.stderr
          and f"profile {profile}\n" in r.stderr, r)
r = run(aarch64, "--kernel", "6.1.0-18-arm64")
check("--kernel 6.1.0-18-arm64: Debian 12's arm64 profile", "profile debian-12-arm64" in r.stderr
      and r.returncode in (0, 1), r)
r = run("--kernel", "6.1.0-18-sparc64-smp!")
check("--kernel with a string that matches nothing: exit 2, saying what it accepts",
      r.returncode == 2 and "not a release as `uname -r` prints it" in r.stderr, r)

profiles_json = json.loads((fixtures.parent.parent.parent / "guest-model" / "profiles" / "data" / "profiles.json").read_text())


def kconfig(header, values):
    lines = ["#", "# Automatically generated file; DO NOT EDIT.", f"# Linux/{header} Kernel Configuration", "#"]
    for key, value in values.items():
        lines.append(f"# {key} is not set" if value == "n" else f"{key}={value}")
    return "\n".join(lines) + "\n"


with tempfile.TemporaryDirectory() as tmp:
    debian = profiles_json["profiles"]["debian-12"]
    config = pathlib.Path(tmp, "config-6.1.0-56-amd64")
    config.write_text(kconfig(f"x86 {debian['version']}", {"CONFIG_X86_64": "y", **debian["config"]}))
    by_file = run("--kernel", config, "--json", "-")
    by_name = run("--kernel", "debian-12", "--json", "-")
    devices = lambda r: json.loads(r.stdout)["devices"] if r.stdout.startswith("{") else None
    check("--kernel CONFIG_FILE: Debian 12's configuration gives what the debian-12 profile gives, under its name",
          by_file.returncode == by_name.returncode == 1 and by_file.stdout.replace(config.name, "debian-12")
          == by_name.stdout and "debian-12 does not build the virtio-iommu driver" in by_name.stdout, by_file)
    check("--kernel CONFIG_FILE: says the release its header names and what it decides",
          "is the configuration of Linux 6.1.192 for x86_64 (its header)" in by_file.stderr
          and "CONFIG_VIRTIO_IOMMU=n" in by_file.stderr, by_file)
    with_driver = pathlib.Path(tmp, "config-with-driver")
    with_driver.write_text(config.read_text().replace("# CONFIG_VIRTIO_IOMMU is not set", "CONFIG_VIRTIO_IOMMU=m")
                           .replace("# CONFIG_ACPI_VIOT is not set", "CONFIG_ACPI_VIOT=y"))
    r = run("--kernel", with_driver, "--json", "-")
    report = json.loads(r.stdout) if r.stdout.startswith("{") else {}
    check("--kernel CONFIG_FILE: CONFIG_VIRTIO_IOMMU=m in the file builds the driver",
          report.get("iommu", {}).get("driver_ready") is True and report["iommu"]["why_not"] == "", r)
    gz = pathlib.Path(tmp, "config.gz")
    gz.write_bytes(gzip.compress(with_driver.read_bytes()))
    r_gz = run("--kernel", gz, "--json", "-")
    check("--kernel /proc/config.gz's contents, gzip: the same as the plain file",
          r_gz.returncode == r.returncode and devices(r_gz) == devices(r), r_gz)
    arm = pathlib.Path(tmp, "config-arm64")
    arm.write_text(kconfig("arm64 6.12.0", {"CONFIG_ARM64": "y", "CONFIG_VIRTIO_IOMMU": "m", "CONFIG_VFIO": "m",
                                            "CONFIG_VIRTIO_PCI": "y", "CONFIG_PCI": "y", "CONFIG_OF": "y"}))
    r = run("--kernel", arm)
    check("--kernel CONFIG_FILE for arm64 refuses an x86_64 guest", r.returncode == 2 and "aarch64" in r.stderr, r)
    broken = pathlib.Path(tmp, "config-broken")
    broken.write_text(config.read_text() + "VFIO=m\n")
    r = run("--kernel", broken)
    check("--kernel with a broken configuration file: exit 2 naming the line",
          r.returncode == 2 and "neither CONFIG_NAME=VALUE nor a comment" in r.stderr, r)

r = run("--version")
check("--version exits 0", r.returncode == 0 and r.stdout.startswith("viommu-boot "), r)
r = run("--help")
check("--help documents --strict and the worst-verdict rule",
      "--strict" in r.stdout and "--compare-kernels (across its kernels): the worst" in r.stdout, r)

for f in failures:
    print("FAIL:", f)
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
