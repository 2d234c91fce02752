#include "system/truth/initramfs.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "system/truth/cpio_newc.h"
#include "system/truth/elf_arch.h"
#include "system/truth/host_command.h"
#include "system/truth/text_file.h"

namespace viommu::system::truth {
namespace fs = std::filesystem;
namespace {

std::string normalized(std::string name)
{
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

// "virtio_net" for ".../virtio_net.ko.xz" or ".../virtio_net.ko".
std::string module_name(const fs::path& p)
{
    std::string name = p.filename().string();
    for (const char* suffix : {".ko.xz", ".ko"})
        if (name.ends_with(suffix))
            return normalized(name.substr(0, name.size() - std::string_view(suffix).size()));
    return "";
}

std::string read_file(const fs::path& p)
{
    return read_text_file(p).value_or("");
}

// The modules a module needs, from its .modinfo "depends=" string (scripts/mod/modpost.c writes it).
std::vector<std::string> depends(const std::string& module_bytes)
{
    const std::string key = std::string(1, '\0') + "depends=";
    const size_t at = module_bytes.find(key);
    if (at == std::string::npos)
        return {};
    const size_t start = at + key.size();
    const std::string list = module_bytes.substr(start, module_bytes.find('\0', start) - start);
    std::vector<std::string> out;
    std::istringstream items(list);
    for (std::string item; std::getline(items, item, ',');)
        if (!item.empty())
            out.push_back(normalized(item));
    return out;
}

} // namespace

const std::vector<std::string>& wanted_modules()
{
    static const std::vector<std::string> kModules = {
        "virtio_pci", "virtio_iommu", "virtio_net", "virtio_blk", "lpc_ich", "ahci", "i2c_i801", "e1000e",
        "vfio", "vfio_pci", "vfio_iommu_type1"};
    return kModules;
}

std::string init_script(const std::vector<std::string>& vfio_ids)
{
    std::string ids;
    for (const std::string& id : vfio_ids)
        ids += " " + id;
    // udev's coldplug, as viommu-boot's model orders it (system/boot/initcalls.cc, load_modules()): a
    // module for each device without a driver, the virtio bus first (only the virtio-iommu is there until
    // its driver lets the other virtio-pci functions probe, so it is walked twice), then the PCI
    // functions. settle waits until the number of bound devices stops changing: deferred probes run from
    // a workqueue. Rounds repeat while they bind anything, for devices a round's modules made appear
    // (the virtio devices of Debian 12's 6.1, whose virtio_pci is a module), as udev's uevents would.
    return fmt::format(R"init(#!/bin/sh
# viommu-truth's guest init (system/truth/initramfs.cc).
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# A probe that never returns (virtio_blk's first read when its DMA faults and nothing completes the
# request) would stop the init in modprobe: each gets 60 s, then the init goes on and says so in the
# kernel log. The driver is bound by then: Linux links it in sysfs before it calls probe.
load() {{
  rm -f /loaded
  (modprobe -b "$1" 2>/dev/null; : > /loaded) &
  n=0
  while [ ! -e /loaded ]; do
    n=$((n + 1))
    if [ $n -gt 600 ]; then
      echo "viommu-truth init: modprobe $1 has not returned after 60 s" > /dev/kmsg
      : > /hung
      return
    fi
    sleep 0.1
  done
}}
coldplug() {{
  for d in "$@"; do
    [ -e "$d/driver" ] || [ ! -e "$d/modalias" ] || load "$(cat "$d/modalias")"
  done
}}
bound() {{
  ls -d /sys/bus/pci/devices/*/driver /sys/bus/virtio/devices/*/driver 2>/dev/null | wc -l
}}
settle() {{
  before=x
  for i in 1 2 3 4 5 6 7 8 9 10; do
    now=$(bound)
    [ "$now" = "$before" ] && return
    before=$now
    sleep 1
  done
}}
for round in 1 2 3; do
  start=$(bound)
  coldplug /sys/bus/virtio/devices/*
  settle
  coldplug /sys/bus/virtio/devices/*
  settle
  coldplug /sys/bus/pci/devices/*
  settle
  [ "$(bound)" = "$start" ] && break
done
# What driverctl's set-override needs, and the type1 container the VFIO user asks for.
modprobe vfio_iommu_type1
modprobe vfio-pci
# Keep the console to truth-probe's lines; it reads the kernel log itself.
echo 1 > /proc/sys/kernel/printk
/truth-probe{}
# A probe still running holds its device's lock, which poweroff's device_shutdown() would wait for
# forever: then restart at once instead (sysrq b, emergency_restart(), which QEMU's -no-reboot makes an
# exit), once the console has drained.
if [ -e /hung ]; then
  sleep 2
  echo b > /proc/sysrq-trigger
fi
poweroff -f
)init",
                       ids);
}

Expected<Initramfs, std::string> build_initramfs(const KernelPackage& kernel, const InitramfsInputs& inputs,
                                                 const fs::path& work)
{
    std::error_code ec;
    fs::remove_all(work, ec);
    const fs::path root = work / "root";
    const fs::path modules_src = kernel.root / "lib/modules" / kernel.release;
    const fs::path modules_dst = root / "lib/modules" / kernel.release;
    fs::create_directories(modules_dst, ec);
    if (ec)
        return unexpected(fmt::format("cannot create {}: {}", modules_dst.string(), ec.message()));

    std::map<std::string, fs::path> index; // module name -> path relative to the modules folder
    for (const auto& e : fs::recursive_directory_iterator(modules_src / "kernel", ec))
        if (const std::string name = module_name(e.path()); !name.empty())
            index[name] = fs::relative(e.path(), modules_src);
    std::set<std::string> builtin;
    {
        std::istringstream lines(read_file(modules_src / "modules.builtin"));
        for (std::string line; std::getline(lines, line);)
            builtin.insert(module_name(line));
    }

    Initramfs result;
    std::vector<std::string> todo = wanted_modules();
    std::set<std::string> done;
    while (!todo.empty()) {
        const std::string name = todo.back();
        todo.pop_back();
        if (!done.insert(name).second)
            continue;
        const auto found = index.find(name);
        if (found == index.end()) {
            result.not_modules.push_back(name + (builtin.count(name) ? " (built in)" : " (not in the package)"));
            continue;
        }
        fs::path rel = found->second;
        const bool xz = rel.extension() == ".xz";
        if (xz)
            rel.replace_extension(); // kernel/drivers/net/virtio_net.ko
        fs::create_directories((modules_dst / rel).parent_path(), ec);
        if (xz) {
            CommandOptions to_file;
            to_file.stdout_file = modules_dst / rel;
            if (run_command({"xz", "-dc", (modules_src / found->second).string()}, to_file).status != 0)
                return unexpected(fmt::format("xz -dc {} failed", (modules_src / found->second).string()));
        } else {
            fs::copy_file(modules_src / rel, modules_dst / rel, ec);
        }
        result.modules.push_back(rel.string());
        for (const std::string& dep : depends(read_file(modules_dst / rel)))
            todo.push_back(dep);
    }
    std::sort(result.modules.begin(), result.modules.end());
    std::sort(result.not_modules.begin(), result.not_modules.end());
    for (const char* f : {"modules.builtin", "modules.order", "modules.builtin.modinfo"})
        fs::copy_file(modules_src / f, modules_dst / f, ec);
    // busybox's depmod writes modules.dep and modules.alias for the modules present.
    if (run_command({inputs.host_busybox.string(), "depmod", "-b", root.string(), kernel.release}).status != 0)
        return unexpected(std::string("busybox depmod failed"));

    CpioWriter cpio;
    for (const char* dir : {"bin", "sbin", "dev", "proc", "sys", "lib"})
        cpio.directory(dir);
    cpio.char_device("dev/console", 5, 1);
    const std::string busybox = read_file(inputs.busybox);
    if (busybox.empty())
        return unexpected(fmt::format("cannot read {} (Debian: busybox-static)", inputs.busybox.string()));
    if (elf_arch(busybox) != inputs.arch)
        return unexpected(fmt::format("{} is not a {} executable", inputs.busybox.string(),
                                      guest::profiles::arch_name(inputs.arch)));
    cpio.file("bin/busybox", busybox, true);
    for (const char* applet : {"sh", "mount", "modprobe", "sleep", "cat", "ls", "wc", "poweroff", "echo", "rm"})
        cpio.symlink(fmt::format("bin/{}", applet), "busybox");
    cpio.symlink("sbin/modprobe", "../bin/busybox");
    const std::string probe = read_file(inputs.probe);
    if (probe.empty())
        return unexpected(fmt::format("cannot read truth-probe at {}", inputs.probe.string()));
    if (elf_arch(probe) != inputs.arch)
        return unexpected(fmt::format("{} is not a {} executable: build truth-probe for the guest (scripts/record-truth "
                                      "does, docs/ground-truth.md)",
                                      inputs.probe.string(), guest::profiles::arch_name(inputs.arch)));
    cpio.file("truth-probe", probe, true);
    cpio.file("init", init_script(inputs.vfio_ids), true);
    std::vector<fs::path> tree;
    for (const auto& e : fs::recursive_directory_iterator(root / "lib", ec))
        tree.push_back(e.path());
    std::sort(tree.begin(), tree.end());
    for (const fs::path& p : tree) {
        const std::string rel = fs::relative(p, root).string();
        if (fs::is_directory(p))
            cpio.directory(rel);
        else
            cpio.file(rel, read_file(p), false);
    }
    const fs::path archive = work / "initrd.cpio";
    {
        std::ofstream out(archive, std::ios::binary | std::ios::trunc);
        out << cpio.finish();
        if (!out)
            return unexpected(fmt::format("cannot write {}", archive.string()));
    }
    if (run_command({"gzip", "-n", "-f", archive.string()}).status != 0)
        return unexpected(fmt::format("gzip {} failed", archive.string()));
    result.image = work / "initrd.cpio.gz";
    return result;
}

} // namespace viommu::system::truth
