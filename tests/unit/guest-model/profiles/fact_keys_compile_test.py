#!/usr/bin/env python3
"""Behaviour keys are checked by the compiler: code naming a key of the facts table compiles, code naming
a misspelt one or making a FactKey from a string does not; the generator refuses keys it cannot turn
into distinct constants.

usage: fact_keys_compile_test.py SOURCE_ROOT BUILD_ROOT CXX [CXX ARGS...] (the compiler command, ccache and all)"""
import pathlib
import subprocess
import sys
import tempfile

source_root, build_root, cxx = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
generator = source_root / "guest-model/profiles/gen_fact_keys.py"
failures = []


def compiles(body):
    code = '#include "guest-model/profiles/fact_keys.h"\nusing namespace viommu::guest::profiles;\n' + body + "\n"
    r = subprocess.run([*cxx, "-std=c++20", "-fsyntax-only", "-x", "c++", "-", f"-I{source_root}", f"-I{build_root}"],
                       input=code, capture_output=True, text=True)
    return r.returncode == 0


def check(name, ok):
    print(("ok: " if ok else "FAIL: ") + name)
    if not ok:
        failures.append(name)


check("a key of the facts table compiles", compiles("constexpr FactKey k = fact::iommu::kDmaFqType;"))
check("a misspelt key does not compile", not compiles("constexpr FactKey k = fact::iommu::kDmaFqTyp;"))
check("a key under the wrong prefix does not compile", not compiles("constexpr FactKey k = fact::vfio::kDmaFqType;"))
check("a FactKey cannot be made from a string", not compiles('const FactKey k{"iommu.dma_fq_type"};'))


def generates(keys):
    with tempfile.TemporaryDirectory() as tmp:
        facts = pathlib.Path(tmp) / "facts.json"
        facts.write_text('{"behaviours": {' + ", ".join(f'"{k}": {{}}' for k in keys) + "}}")
        r = subprocess.run([sys.executable, str(generator), str(facts), str(pathlib.Path(tmp) / "out.h")],
                           capture_output=True, text=True)
        return r.returncode == 0


check("the generator takes PREFIX.name keys", generates(["iommu.dma_fq_type", "vfio.noiommu"]))
check("the generator refuses a key without a prefix", not generates(["dma_fq_type"]))
check("the generator refuses a key that is no identifier", not generates(["iommu.dma-fq-type"]))
check("the generator refuses two keys with one constant", not generates(["iommu.dma_fq", "iommu.dma__fq"]))

sys.exit(1 if failures else 0)
