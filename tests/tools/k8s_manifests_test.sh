#!/usr/bin/env bash
# Validates the deployment files in k8s/ offline: YAML/TOML well-formed, kustomize builds of the base and
# the example overlay, required fields and cross-references, the Dockerfile against the binary's shared
# libraries, and the Grafana dashboard's queries against the runtime's metric names (all in
# k8s_manifests_check.py). Once `bouncestream rules check` and `config check` are built, the rule and
# config files in k8s/ must pass them too.
# Called by ctest as: bash THIS <bouncestream-binary> <source-dir>
set -euo pipefail

BIN="$1"
SRC="$2"
[[ -x "${BIN}" ]] || { echo "FAIL: binary ${BIN} missing" >&2; exit 1; }

# A Python 3.11+ (tomllib) with PyYAML: the pyenv one or Debian's python3 + python3-yaml.
PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import tomllib, yaml' 2>/dev/null; then PY="$p"; break; fi
done
[[ -n "${PY}" ]] || { echo "FAIL: need python3 >= 3.11 with PyYAML (Debian: python3-yaml)" >&2; exit 1; }

# kustomize: kubectl's built-in one, a kustomize on PATH, or one built once from the Go module proxy
# into the ignored cache (about a minute, then cached).
KUSTOMIZE_VERSION="v5.7.1"
CACHE_BIN="${SRC}/.cache/go-bin"
if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
  KCMD=(kubectl kustomize)
elif command -v kustomize >/dev/null; then
  KCMD=(kustomize build)
else
  if [[ ! -x "${CACHE_BIN}/kustomize" ]]; then
    command -v go >/dev/null || { echo "FAIL: no kubectl, kustomize or go to build manifests" >&2; exit 1; }
    echo "building kustomize ${KUSTOMIZE_VERSION} into ${CACHE_BIN}" >&2
    GOBIN="${CACHE_BIN}" go install "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}"
  fi
  KCMD=("${CACHE_BIN}/kustomize" build)
fi
echo "kustomize: ${KCMD[*]}"

status=0
"${PY}" "${SRC}/tests/tools/k8s_manifests_check.py" "${SRC}" "${BIN}" "${KCMD[@]}" || status=1

# The binary's own validators, once they exist (a subcommand not built yet says "(not built yet)"). The
# rules ConfigMap holds local rules layered over the repository's rule data, checked the same way.
if ! "${BIN}" rules check --help 2>&1 | grep -q 'not built yet'; then
  if "${BIN}" rules check "${SRC}/rules/data" --override "${SRC}/k8s/base/rules"; then
    echo "rules check --override k8s/base/rules: ok"
    # The example site rule must win for the reply it was written for.
    got="$(echo '{"reply":"452 4.2.2 partner gateway: mailbox over quota"}' |
      "${BIN}" classify --rules "${SRC}/rules/data" --override "${SRC}/k8s/base/rules" 2>/dev/null)"
    if [[ "${got}" == *'"rule":"site.partner_gateway.quota"'* ]]; then
      echo "classify with the site rules: ok"
    else
      echo "FAIL: the site rule did not classify its reply: ${got}"
      status=1
    fi
  else
    echo "FAIL: rules check --override k8s/base/rules"
    status=1
  fi
else
  echo "note: 'bouncestream rules check' not built yet; rule files checked for syntax and fields only"
fi
if ! "${BIN}" config check --help 2>&1 | grep -q 'not built yet'; then
  for f in "${SRC}"/k8s/base/config/bouncestream.toml "${SRC}"/k8s/overlays/example/bouncestream.toml; do
    if "${BIN}" config check "$f"; then echo "config check $f: ok"; else echo "FAIL: config check $f"; status=1; fi
  done
else
  echo "note: 'bouncestream config check' not built yet; config files checked for syntax and keys only"
fi
exit "${status}"
