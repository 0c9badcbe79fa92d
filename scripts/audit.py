"""Static and supply-chain checks (``make audit``, run by ``.ci/run``).

1. ruff over the whole tree;
2. bandit over the application code (tests, benchmarks and migrations excluded): any finding
   of high severity fails; ``assert`` (B101) is allowed, the code uses it for type narrowing
   of values checked at start-up;
3. pip-audit of the pinned requirements against the PyPI advisory data, when it can be
   reached: on a machine without it (every package comes back "not found"), the step is
   skipped with a message saying so, rather than reporting a clean bill it never checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BANDIT_EXCLUDE = ",".join(f"./{name}" for name in (".venv", "tests", "bench", "migrations"))
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603


def ruff() -> bool:
    result = run(str(BIN / "ruff"), "check", ".")
    print(result.stdout.strip() or "ruff: clean")
    return result.returncode == 0


def bandit() -> bool:
    result = run(str(BIN / "bandit"), "-q", "-r", ".", "-x", BANDIT_EXCLUDE, "--skip", "B101",
                 "--severity-level", "high", "-f", "txt")
    if result.returncode == 0:
        print("bandit: no high-severity findings")
        return True
    print(result.stdout, result.stderr)
    return False


def pip_audit() -> bool:
    pinned = [line.strip() for name in REQUIREMENTS
              for line in (ROOT / name).read_text().splitlines()
              if line.strip() and not line.startswith(("#", "-r"))]
    requirements = ROOT / ".audit-requirements.txt"
    requirements.write_text("\n".join(pinned) + "\n")
    try:
        result = run(str(BIN / "pip-audit"), "-r", str(requirements), "--no-deps",
                     "--disable-pip", "--progress-spinner", "off", "--format", "json")
    finally:
        requirements.unlink()
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit: SKIPPED — the advisory data could not be reached "
              f"({(result.stderr.strip().splitlines() or ['no answer'])[-1]})")
        return True
    dependencies = report.get("dependencies", [])
    audited = [item for item in dependencies if "skip_reason" not in item]
    if not audited:
        print(f"pip-audit: SKIPPED — the advisory data could not be reached from this machine "
              f"(none of the {len(dependencies)} pinned packages could be looked up)")
        return True
    vulnerable = [item for item in audited if item.get("vulns")]
    for item in vulnerable:
        ids = ", ".join(vuln["id"] for vuln in item["vulns"])
        print(f"pip-audit: {item['name']} {item['version']}: {ids}")
    skipped = len(dependencies) - len(audited)
    print(f"pip-audit: {len(audited)} packages audited, {len(vulnerable)} vulnerable"
          + (f", {skipped} could not be looked up" if skipped else ""))
    return not vulnerable


def main() -> int:
    results = [ruff(), bandit(), pip_audit()]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
