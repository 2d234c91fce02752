"""The command line the suite's tree checks share (tests/layering/check_layers.py,
tests/docs/check_links.py): `CHECK ROOT` lists every problem found in the tree at ROOT and exits 1 if
there is one; `CHECK --self-test` plants problems in a scratch tree and exits 1 unless each is caught, so
that the check itself can fail."""
import pathlib
import sys


def main(argv, usage, find, self_test, clean_message):
    """find(root) -> list of problems; self_test() -> exit status; clean_message(root) -> the line printed
    when the tree has no problem."""
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(usage, file=sys.stderr)
        return 2
    root = pathlib.Path(argv[1])
    found = find(root)
    for problem in found:
        print(problem)
    if not found:
        print(clean_message(root))
    return 1 if found else 0
