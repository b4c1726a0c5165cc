#!/usr/bin/env bash
# Security audit for `make test`: ruff's bandit rules (S), bandit itself, and pip-audit.
# Findings that are reviewed and safe are listed, with the reason, in the README's
# "Security and reliability" section; anything new fails the build.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

echo "audit: ruff, including its bandit rules (S); every suppression carries its reason inline"
.venv/bin/ruff check --quiet . || status=1

echo "audit: bandit (medium and high severity; reviewed findings in .ci/bandit-baseline.json)"
.venv/bin/bandit -q -r config core crm scoring tiering web -x "*/tests/*,*/migrations/*" --severity-level medium \
    --baseline .ci/bandit-baseline.json -f custom --msg-template "{relpath}:{line} {test_id} {severity} {msg}" \
    || status=1

echo "audit: pip-audit (installed packages against PyPI's vulnerability data)"
report="$(mktemp)"
timeout "${PIP_AUDIT_TIMEOUT:-180}" .venv/bin/pip-audit --progress-spinner off -f json -o "$report" \
    ${PIP_AUDIT_IGNORE:+$(printf -- '--ignore-vuln %s ' $PIP_AUDIT_IGNORE)} >/dev/null 2>&1
audit_exit=$?
.venv/bin/python - "$report" "$audit_exit" <<'PY' || status=1
import json
import sys

path, audit_exit = sys.argv[1], int(sys.argv[2])
try:
    with open(path) as handle:
        dependencies = json.load(handle).get("dependencies", [])
except (OSError, ValueError):
    dependencies = []
audited = [d for d in dependencies if "skip_reason" not in d]
if not audited:
    print(f"audit: pip-audit skipped: vulnerability data could not be reached (exit {audit_exit}); "
          "run `.venv/bin/pip-audit` where PyPI is reachable")
    sys.exit(0)
vulnerable = [(d["name"], d["version"], v["id"], ", ".join(v.get("fix_versions", [])) or "no fix yet")
              for d in audited for v in d.get("vulns", [])]
for name, version, vuln, fix in vulnerable:
    print(f"  {name} {version}: {vuln} (fixed in {fix})")
skipped = len(dependencies) - len(audited)
print(f"audit: pip-audit checked {len(audited)} package(s), {skipped} not found on the index, "
      f"{len(vulnerable)} known vulnerabilit{'y' if len(vulnerable) == 1 else 'ies'}")
sys.exit(1 if vulnerable else 0)
PY
rm -f "$report"

[ "$status" -eq 0 ] && echo "audit: no unexplained findings" || echo "audit: FAILED (see above)" >&2
exit "$status"
