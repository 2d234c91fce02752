#!/usr/bin/env python3
"""viommu-boot --qmp end to end, with a plain socket client written as one for QEMU's QMP would be: the
greeting and negotiation, hot-plug of a hostdev and a virtio NIC into empty root ports, their groups and
verdicts, an injected fault and its event, unplug and DEVICE_DELETED, bad input answered without changing
the guest, a client that vanishes mid-command, a second client after it, quit and exit status 0; then the
bytes of the answers against a recording of QEMU 7.2's monitor.
Usage: qmp_test.py BUILD_DIR FIXTURES_DIR"""
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

build = pathlib.Path(sys.argv[1])
fixtures = pathlib.Path(sys.argv[2])
boot = str(build / "tools" / "viommu-boot")
failures = []


def check(name, ok, detail=""):
    if ok:
        print(f"ok: {name}")
    else:
        failures.append(f"{name}: {detail}")
        print(f"FAIL: {name}: {detail}")


class QMP:
    """What a QMP client does: read the greeting, negotiate, then one request at a time, setting events
    aside until asked for."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.file = self.sock.makefile("rb")
        self.events = []
        self.greeting = self.read()

    def read(self):
        line = self.file.readline()
        if not line:
            raise EOFError("the monitor closed the connection")
        return json.loads(line)

    def send_raw(self, data):
        self.sock.sendall(data)

    def response(self):
        while True:
            msg = self.read()
            if "event" in msg:
                self.events.append(msg)
                continue
            return msg

    def cmd(self, name, args=None, id=None):
        req = {"execute": name}
        if args is not None:
            req["arguments"] = args
        if id is not None:
            req["id"] = id
        self.send_raw(json.dumps(req).encode() + b"\n")
        return self.response()

    def event(self, name):
        for _ in range(20):
            for e in self.events:
                if e["event"] == name:
                    self.events.remove(e)
                    return e
            self.events.append(self.read())
        return None

    def close(self):
        self.file.close()
        self.sock.close()


def device(report, bdf):
    return next((d for d in report["devices"] if d["bdf"] == bdf), None)


r = subprocess.run([boot, str(fixtures / "q35-hotplug.xml"), "--qmp", "tcp:localhost:4444"], capture_output=True, text=True)
check("--qmp tcp: is not supported (exit 2)", r.returncode == 2 and "not supported" in r.stderr, r.stderr)

def start_monitor(tmp):
    """viommu-boot --qmp on a socket in tmp, once it listens (or has exited)."""
    path = os.path.join(tmp, "qmp.sock")
    proc = subprocess.Popen([boot, str(fixtures / "q35-hotplug.xml"), "--qmp", f"unix:{path}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(600):
        if os.path.exists(path) or proc.poll() is not None:
            break
        time.sleep(0.05)
    check("the monitor listens", os.path.exists(path), proc.poll())
    return proc, path


with tempfile.TemporaryDirectory() as tmp:
    proc, path = start_monitor(tmp)

    try:
        q = QMP(path)
    except OSError as e:
        proc.kill()
        print(proc.communicate())
        raise
    check("greeting: QEMU's form with the oob capability",
          q.greeting["QMP"]["capabilities"] == ["oob"] and q.greeting["QMP"]["version"]["qemu"]["major"] == 7,
          q.greeting)
    r = q.cmd("query-status")
    check("commands wait for negotiation", r.get("error", {}).get("class") == "CommandNotFound", r)
    check("qmp_capabilities", q.cmd("qmp_capabilities", id="neg") == {"return": {}, "id": "neg"})
    check("query-status: running", q.cmd("query-status")["return"]["running"] is True)
    check("query-version", q.cmd("query-version")["return"]["qemu"] == {"micro": 0, "minor": 2, "major": 7})
    pci = q.cmd("query-pci")["return"][0]["devices"]
    ports = {d["qdev_id"]: d for d in pci if "pci_bridge" in d}
    check("query-pci: the empty root ports, with their buses",
          ports.get("pci.3", {}).get("pci_bridge", {}).get("devices") == []
          and ports["pci.3"]["pci_bridge"]["bus"]["secondary"] == 3, ports.keys())
    before = q.cmd("x-viommu-report")["return"]

    # Bad input: answered, nothing changes.
    q.send_raw(b"{\"execute\": @\n")
    r = q.response()
    check("bad JSON: QEMU's parse error", r == {"error": {"class": "GenericError", "desc": "JSON parse error, stray '@'"}}, r)
    r = q.cmd("frob", id=5)
    check("unknown command: CommandNotFound with the id", r.get("error", {}).get("class") == "CommandNotFound"
          and r.get("id") == 5, r)
    r = q.cmd("device_del", {"id": 7})
    check("wrong argument type: GenericError", r.get("error", {}).get("desc") ==
          "Invalid parameter type for 'id', expected: string", r)
    r = q.cmd("device_add", {"driver": "virtio-net-pci", "bus": "pci.1", "id": "netx", "iommu_platform": "on"})
    check("occupied root port: refused", "not available" in r.get("error", {}).get("desc", ""), r)
    r = q.cmd("device_add", {"driver": "virtio-net-pci", "bus": "pci.4", "id": "netx", "addr": "0\u0000"})
    check("addr with a U+0000 after a valid slot: refused whole", r.get("error", {}).get("desc") ==
          "Property 'virtio-net-pci.addr' doesn't take value '0\u0000'", r)
    r = q.cmd("device_add", {"driver": "virtio-net-pci", "id": "netx"})
    check("root bus: does not support hotplugging", r.get("error", {}).get("desc") ==
          "Bus 'pcie.0' does not support hotplugging", r)
    r = q.cmd("device_del", {"id": "nothing"})
    check("device_del of no device: DeviceNotFound", r.get("error", {}).get("class") == "DeviceNotFound", r)
    r = q.cmd("device_add", {"driver": "vfio-pci", "host": "0000:66:00.0", "bus": "pci.3", "id": "hostdev64k"})
    check("a hostdev whose host IOMMU misses the frozen 4 KiB granule: refused with QEMU's reason",
          r == {"error": {"class": "GenericError", "desc": "virtio-iommu does not support frozen granule 0x1000"}}, r)
    after = q.cmd("x-viommu-report")["return"]
    check("bad input changes nothing", after["devices"] == before["devices"] and after["dmesg"] == before["dmesg"])

    # Requests sent together are answered in order, one at a time.
    q.send_raw(b"".join(json.dumps({"execute": "query-status", "id": i}).encode() + b"\n" for i in range(500)))
    ids = [q.response().get("id") for _ in range(500)]
    check("500 pipelined requests, answered in order", ids == list(range(500)), ids[:5])

    # Hot-plug a hostdev and a virtio NIC.
    r = q.cmd("device_add", {"driver": "vfio-pci", "host": "0000:67:00.0", "bus": "pci.3", "id": "hostdev1"})
    check("device_add vfio-pci", r == {"return": {}}, r)
    r = q.cmd("device_add", {"driver": "virtio-net-pci", "bus": "pci.4", "id": "net1", "iommu_platform": "on"})
    check("device_add virtio-net-pci", r == {"return": {}}, r)
    report = q.cmd("x-viommu-report")["return"]
    hd, net = device(report, "0000:03:00.0"), device(report, "0000:04:00.0")
    check("the hostdev: its own group, vfio-pci, a verdict", hd and hd["group"] is not None and hd["driver"] == "vfio-pci"
          and hd["vfio"] is not None, hd)
    check("the hostdev: refused at VFIO_SET_IOMMU as at boot (no interrupt remapping)",
          hd and hd["vfio"]["admitted"] is False and hd["vfio"]["error"] == "EPERM", hd and hd["vfio"])
    check("the NIC: virtio_net, a group, translated DMA", net and net["driver"] == "virtio-pci/virtio_net"
          and net["group"] is not None and net["dma"]["result"] == "translated", net)
    domains = q.cmd("x-viommu-query-domains")["return"]
    check("the NIC's endpoint is attached to a domain", any(0x400 in d["endpoints"] for d in domains), domains)
    pci = q.cmd("query-pci")["return"][0]["devices"]
    port4 = next(d for d in pci if d.get("qdev_id") == "pci.4")
    check("query-pci shows the NIC behind pci.4", [d["qdev_id"] for d in port4["pci_bridge"]["devices"]] == ["net1"])

    # A fault, and its event.
    r = q.cmd("x-viommu-inject-fault", {"endpoint": 0x400, "reason": "mapping", "address": 0xdead000, "write": True})
    check("inject-fault: the guest logged it", "page fault from EP 1024 at 0xdead000 [W]" in r["return"]["guest-log"], r)
    e = q.event("X_VIOMMU_FAULT")
    check("X_VIOMMU_FAULT with a timestamp", e is not None and e["data"]["endpoint"] == 0x400
          and e["timestamp"]["seconds"] > 0 and 0 <= e["timestamp"]["microseconds"] < 1000000, e)

    # Unplug.
    check("device_del", q.cmd("device_del", {"id": "net1"}) == {"return": {}})
    e = q.event("DEVICE_DELETED")
    check("DEVICE_DELETED", e is not None and e["data"] == {"device": "net1", "path": "/machine/peripheral/net1"}, e)
    report = q.cmd("x-viommu-report")["return"]
    check("the NIC is gone from the report", device(report, "0000:04:00.0") is None)
    check("the guest sent DETACH on release (6.12)", not any(0x400 in d["endpoints"] for d in
                                                              q.cmd("x-viommu-query-domains")["return"]))

    # A client that vanishes mid-command changes nothing; the next client is served.
    q.send_raw(b'{"execute": "device_add", "arguments": {"driver": "virtio-net-pci", "bus": "pci.4", "id": "net2"')
    q.close()
    q2 = QMP(path)
    check("a second client gets its greeting", "QMP" in q2.greeting)
    q2.cmd("qmp_capabilities")
    report = q2.cmd("x-viommu-report")["return"]
    check("the half-sent device_add did nothing", device(report, "0000:04:00.0") is None)
    check("quit", q2.cmd("quit") == {"return": {}})
    e = q2.event("SHUTDOWN")
    check("SHUTDOWN after quit", e is not None and e["data"]["reason"] == "host-qmp-quit", e)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = None
    out, err = proc.communicate()
    check("viommu-boot exits 0 after quit", code == 0, f"exit {code}, stderr {err[:500]!r}")
    check("the boot's table came first", "DEVICE" in out and "0000:02:00.0" in out, out[:300])
    check("the socket is removed", not os.path.exists(path))

# The wire, byte for byte, against recordings of QEMU 7.2's monitor given the same client lines: member
# order, escapes, numbers, CR LF, error texts, device_add's checks in QEMU's order (each recording says
# how it was made).
for recording_file in ("qmp-wire-qemu-7.2.json", "qmp-device-add-qemu-7.2.json"):
    recording = json.loads((fixtures / recording_file).read_text())
    with tempfile.TemporaryDirectory() as tmp:
        proc, path = start_monitor(tmp)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(30)
        sock.connect(path)
        wire = sock.makefile("rb")
        wire.readline()  # the greeting: its version is viommu's
        sock.sendall("".join(line + "\n" for line in recording["input"]).encode())
        answers = []
        while len(answers) < len(recording["answers"]):
            line = wire.readline().decode()
            if not line:
                break
            if '"event"' not in line:
                answers.append(line)
        for i, (ours, qemus) in enumerate(zip(answers, recording["answers"])):
            check(f"{recording_file} line {i + 1} is QEMU's, byte for byte", ours == qemus, f"{ours!r} against {qemus!r}")
        check(f"{recording_file}: as many answers as QEMU's", len(answers) == len(recording["answers"]), answers)
        sock.close()
        code = proc.wait(timeout=60)
        check(f"{recording_file}: viommu-boot exits 0 after the recording's quit", code == 0, proc.communicate()[1][:500])

if failures:
    print(f"{len(failures)} failed:\n" + "\n".join(failures))
    sys.exit(1)
print("all passed")
