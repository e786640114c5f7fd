#!/usr/bin/env bash
# Checks deploy/ without a container engine or a cluster (docs/deploy.md, "What was
# checked"):
#   1. yamllint: every YAML file under deploy/ parses and is tidy;
#   2. deploy/compose.yaml against the compose-spec JSON schema (check-jsonschema);
#   3. deploy/k8s/*.yaml against the strict Kubernetes JSON schemas of the oldest and
#      newest supported versions (kubernetes-validate; unknown fields are errors);
#   4. deploy/Dockerfile with hadolint;
#   5. the files against each other and the server (scripts/deploy-check/consistency.py);
#   6. each validator rejects a known-bad file, and each consistency rule catches a
#      mutation made for it, so a check that passes is a check that ran.
#
# The validators come from PyPI only, pinned in scripts/deploy-check/requirements.txt,
# into a virtual environment outside the repository (DEPLOY_TOOLS_DIR, default
# ~/.cache/otp-auth/deploy-tools). They are installed on the first run and whenever
# that file changes; later runs need no network and take a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

here=scripts/deploy-check
tools="${DEPLOY_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/otp-auth/deploy-tools}"
# Oldest Kubernetes the manifests support (preStop `sleep` is on by default from 1.30)
# and the newest whose schemas kubernetes-validate bundles.
k8s_versions=(1.30.0 1.37.0)

log() { printf '\n--> %s\n' "$*"; }
fail() { printf 'check-deploy: %s\n' "$*" >&2; exit 1; }

install_tools() {
  local python="${PYTHON:-python3}"
  local stamp
  stamp="$(cat "$here/requirements.txt" - <<<"$("$python" --version 2>&1)" | sha256sum | cut -d' ' -f1)"
  if [ -f "$tools/.stamp" ] && [ "$(cat "$tools/.stamp")" = "$stamp" ]; then
    return
  fi
  log "installing the validators into $tools (PyPI)"
  rm -rf "$tools"
  "$python" -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$here/requirements.txt"
  echo "$stamp" >"$tools/.stamp"
}

# Runs a validator on a file it must reject; fails unless it does, and unless its
# output names what is wrong (so a crash or a missing file does not count).
must_reject() {
  local what="$1" expected="$2"
  shift 2
  local output
  if output="$("$@" 2>&1)"; then
    fail "$what accepted a known-bad file: $*"
  fi
  grep -q -- "$expected" <<<"$output" || fail "$what failed on a known-bad file without naming \"$expected\":
$output"
  echo "$what rejects a known-bad file ($expected)"
}

install_tools
bin="$tools/bin"
yaml_files=(deploy/compose.yaml deploy/k8s/*.yaml)
k8s_files=()
for file in deploy/k8s/*.yaml; do
  # kustomization.yaml is no Kubernetes object; consistency.py checks it.
  [ "$(basename "$file")" = kustomization.yaml ] || k8s_files+=("$file")
done

log "yamllint"
"$bin/yamllint" --strict -c "$here/yamllint.yaml" "${yaml_files[@]}"
echo "${#yaml_files[@]} YAML files are clean"

log "compose file against the compose-spec schema"
"$bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml

log "Kubernetes manifests against the strict schemas"
for version in "${k8s_versions[@]}"; do
  "$bin/kubernetes-validate" --strict --quiet --kubernetes-version "$version" "${k8s_files[@]}"
  echo "${#k8s_files[@]} manifests valid for Kubernetes $version"
done

log "Dockerfile lint (hadolint)"
"$bin/hadolint" --no-color --failure-threshold info deploy/Dockerfile
echo "deploy/Dockerfile: no findings ($("$bin/hadolint" --version))"

log "consistency between the files and the server"
"$bin/python" "$here/consistency.py" .

log "the checks can fail"
must_reject yamllint 'duplication of key "name"' \
  "$bin/yamllint" -c "$here/yamllint.yaml" "$here/known-bad/lint.yaml"
must_reject "the compose-spec schema" restrat \
  "$bin/check-jsonschema" --builtin-schema vendor.compose-spec "$here/known-bad/compose.yaml"
must_reject "the strict Kubernetes schema" "'replica' was unexpected" \
  "$bin/kubernetes-validate" --strict --kubernetes-version "${k8s_versions[0]}" "$here/known-bad/deployment.yaml"
must_reject hadolint DL3007 "$bin/hadolint" --no-color "$here/known-bad/Dockerfile"
"$bin/python" "$here/consistency.py" --self-test .

log "deploy files checked"
