"""What the command-line tests share: run a tool, and check its exit status and what it printed."""
import subprocess


class Expectations:
    """Collects one failure per unmet expectation; prints "ok: NAME" for each met one."""

    def __init__(self):
        self.failures = []

    def expect(self, name, args, code, *needles, stdin=None, where="stderr"):
        r = subprocess.run([str(a) for a in args], input=stdin, capture_output=True, text=True)
        text = r.stdout if where == "stdout" else r.stderr
        missing = [n for n in needles if n not in text]
        if r.returncode != code or missing:
            self.failures.append(f"{name}: exit {r.returncode} (want {code}), missing {missing!r}\n"
                                 f"  stdout: {r.stdout[:600]!r}\n  stderr: {r.stderr[:600]!r}")
        else:
            print(f"ok: {name}")
        return r

    def check(self, name, ok, r=None):
        """An expectation the caller computed; r, the run it is about, is shown when it fails."""
        if ok:
            print(f"ok: {name}")
            return
        detail = f"\n  exit {r.returncode}\n  stdout: {r.stdout[-1500:]!r}\n  stderr: {r.stderr[:800]!r}" if r else ""
        self.failures.append(name + detail)
