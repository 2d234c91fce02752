#!/usr/bin/env python3
"""Seeds for the fuzz targets whose inputs are documents (docs/fuzzing.md, "Seeds and dictionaries"),
made from the repository's own files:
  fuzz-domain-xml    every domain XML fixture of tests/integration/fixtures and the built-in default
                     guest, each after a profile byte (the Nth document boots with built-in profile N);
  fuzz-profile-json  every built-in kernel profile of guest-model/profiles/data/profiles.json as a user
                     profile (its version, configuration and overrides), one that starts from each as
                     its base, and the example of docs/kernel-profiles.md.
Usage: text_seeds.py ROOT OUT_DIR (writes OUT_DIR/<target>/<name>)."""
import json
import pathlib
import re
import sys


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def main():
    root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    documents = sorted((root / 'tests/integration/fixtures').glob('*.xml')) + [root / 'system/boot/default_guest.xml']
    for n, doc in enumerate(documents):
        write(out / 'fuzz-domain-xml' / doc.stem, bytes([n]) + doc.read_bytes())

    profiles = json.loads((root / 'guest-model/profiles/data/profiles.json').read_text())['profiles']
    for name, p in profiles.items():
        user = {'name': 'user-' + name, 'version': p['version']}
        for field in ('description', 'config', 'overrides'):
            if field in p:
                user[field] = p[field]
        write(out / 'fuzz-profile-json' / name, (json.dumps(user, indent=1) + '\n').encode())
        write(out / 'fuzz-profile-json' / ('base-' + name),
              (json.dumps({'name': 'on-' + name, 'base': name}) + '\n').encode())
    docs = (root / 'docs/kernel-profiles.md').read_text()
    example = re.search(r'```json\n(.*?)```', docs, re.S)
    write(out / 'fuzz-profile-json' / 'docs-example', re.sub(r'(?m)^  ', '', example.group(1)).encode())


if __name__ == '__main__':
    main()
