#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script for viommu's fuzz targets (docs/fuzzing.md, "On a cluster").
#
# The infrastructure sets CC, CXX, CXXFLAGS (sanitizer and coverage flags: -fsanitize=address,
# fuzzer-no-link or AFL++'s instrumentation), LIB_FUZZING_ENGINE (libFuzzer, AFL++'s driver, ...),
# SRC, WORK and OUT. The targets come out as $OUT/fuzz-<target>, each with its seed corpus
# ($OUT/fuzz-<target>_seed_corpus.zip: tests/fuzz/corpus and tests/fuzz/regressions) and its
# dictionary ($OUT/fuzz-<target>.dict).
#
# The project's Dockerfile needs Debian 12's packages, as scripts/setup lists them:
#   apt-get install -y meson ninja-build pkg-config libspdlog-dev libfmt-dev libboost-dev catch2 \
#     libcli11-dev nlohmann-json3-dev libvirt-dev libxml2-dev linux-libc-dev python3 zip
# fuzz-domain-xml, fuzz-profile-json and fuzz-qmp validate domain XML with libvirt's in-process test
# driver, so they need libvirt0 and libxml2 where they run, not only where they are built.
# and this file as $SRC/build.sh (ClusterFuzzLite: .clusterfuzzlite/build.sh).

# OSS-Fuzz runs this file with bash -eu; a local run with "bash build.sh" must stop at the first error too.
set -eu
targets=(fuzz-virtqueue fuzz-packed-virtqueue fuzz-requests fuzz-differential fuzz-mmio fuzz-pci fuzz-domain-xml fuzz-profile-json
  fuzz-replay-script fuzz-snapshot fuzz-qmp)

src=${SRC}/viommu
[ -d "$src" ] || src=$(cd "$(dirname "$0")/../../.." && pwd)

# OSS-Fuzz compiles C++ against libc++ (-stdlib=libc++ in CXXFLAGS), but fmt and spdlog come from the
# distribution's packages, built against libstdc++: their std::string is another type, so the link
# would fail. The sanitizers that need every library instrumented (MSan) are therefore not supported;
# ASan, UBSan and coverage builds use libstdc++.
CXXFLAGS=${CXXFLAGS//-stdlib=libc++/}

# Static, no benchmarks; the engine links only into the fuzz targets. OSS-Fuzz's flags are passed
# through as they are (meson's own sanitizer option stays off: CXXFLAGS carries the sanitizer).
meson setup "$WORK/viommu" "$src" \
  -Dbuildtype=plain -Ddefault_library=static -Dbench=disabled -Dtests=enabled \
  -Dfuzzing=true -Dfuzzing_engine="$LIB_FUZZING_ENGINE" \
  -Dcpp_args="$CXXFLAGS" -Dcpp_link_args="$CXXFLAGS"
# Ninja knows meson's executables by their path in the build tree.
ninja -C "$WORK/viommu" "${targets[@]/#/tests/fuzz/}"

for target in "${targets[@]}"; do
  cp "$WORK/viommu/tests/fuzz/$target" "$OUT/"
  # Seeds and saved findings alike: a finding is the input most likely to lead near another one.
  find "$src/tests/fuzz/corpus/$target" "$src/tests/fuzz/regressions/$target" -type f ! -name '.*' |
    zip -q -j "$OUT/${target}_seed_corpus.zip" -@
done
cp "$src/tests/fuzz/dict/virtqueue.dict" "$OUT/fuzz-virtqueue.dict"
cp "$src/tests/fuzz/dict/requests.dict" "$OUT/fuzz-requests.dict"
cp "$src/tests/fuzz/dict/requests.dict" "$OUT/fuzz-differential.dict"
cp "$src/tests/fuzz/dict/mmio.dict" "$OUT/fuzz-mmio.dict"
for target in packed-virtqueue pci domain-xml profile-json replay-script snapshot qmp; do
  cp "$src/tests/fuzz/dict/$target.dict" "$OUT/fuzz-$target.dict"
done
