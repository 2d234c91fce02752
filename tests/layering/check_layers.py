#!/usr/bin/env python3
"""Fails when a source file includes a layer above its own (docs/design.md, "Layers").

usage: check_layers.py ROOT            check the tree at ROOT; exit 1 and list every violation
       check_layers.py --self-test     plant upward includes in a scratch tree and check they are caught

Each top-level folder is a layer and may include only the layers listed for it. In particular the guest
model reaches devices through guest memory, registers and interrupts alone, so nothing under
guest-model/ includes hw/ or system/.
"""
import pathlib
import re
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
import tree_check  # noqa: E402

LAYERS = ("base", "virtio", "hw", "guest-model", "system", "tools", "tests")
ALLOWED = {
    "base": {"base"},
    "virtio": {"base", "virtio"},
    "hw": {"base", "virtio", "hw"},
    "guest-model": {"base", "virtio", "guest-model"},
    "system": {"base", "virtio", "hw", "guest-model", "system"},
    "tools": {"base", "virtio", "hw", "guest-model", "system", "tools"},
    "tests": set(LAYERS),
}
# Within system/: the monitor (system/monitor) sees the board and the boot; nothing else in system/
# sees the monitor, so that a boot never depends on a socket.
SYSTEM_ABOVE = {"monitor": {"boot", "machine", "replay", "truth", "qemu"}}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SOURCES = ("*.h", "*.cc", "*.cpp", "*.hpp")


def violations(root: pathlib.Path):
    found = []
    for layer, allowed in ALLOWED.items():
        top = root / layer
        if not top.is_dir():
            continue
        for pattern in SOURCES:
            for path in sorted(top.rglob(pattern)):
                text = path.read_text(encoding="utf-8", errors="replace")
                for m in INCLUDE.finditer(text):
                    target = m.group(1).split("/", 1)[0]
                    line = text.count("\n", 0, m.start()) + 1
                    if target in LAYERS and target not in allowed:
                        found.append(f"{path.relative_to(root)}:{line}: {layer}/ includes \"{m.group(1)}\" "
                                     f"({layer}/ may include only {', '.join(sorted(allowed))})")
                    parts = m.group(1).split("/")
                    here = path.relative_to(top).parts
                    if layer == "system" and len(parts) > 2 and parts[0] == "system" and len(here) > 1:
                        for upper, lower in SYSTEM_ABOVE.items():
                            if parts[1] == upper and here[0] in lower:
                                found.append(f"{path.relative_to(root)}:{line}: system/{here[0]}/ includes "
                                             f"\"{m.group(1)}\" (only tools/ and tests/ see system/{upper}/)")
    return found


def self_test():
    # Every rule must be able to fail: one planted upward include per layer that has a layer above it.
    plants = {
        "base/a.h": "virtio/guest_memory.h",
        "virtio/a.h": "hw/virtio-iommu/device.h",
        "hw/x/a.cc": "guest-model/iommu/core.h",
        "guest-model/x/a.cc": "hw/virtio-iommu/device.h",
        "guest-model/y/b.h": "system/machine/machine.h",
        "system/x/a.cc": "tools/common/cli.h",
        "system/boot/a.cc": "system/monitor/server.h",
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "guest-model/ok").mkdir(parents=True)
        (root / "guest-model/ok/fine.cc").write_text('#include "virtio/guest_memory.h"\n#include <vector>\n')
        if violations(root):
            print("self-test: a lawful include was reported")
            return 1
        for path, target in plants.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(f'// planted\n#include "{target}"\n')
        found = violations(root)
        missed = [p for p in plants if not any(v.startswith(p + ":2:") for v in found)]
        if missed or len(found) != len(plants):
            print("self-test: not caught: " + ", ".join(missed) + "\n" + "\n".join(found))
            return 1
    print(f"self-test: all {len(plants)} planted upward includes caught")
    return 0


if __name__ == "__main__":
    sys.exit(tree_check.main(sys.argv, __doc__, violations, self_test, lambda root: "no upward include"))
