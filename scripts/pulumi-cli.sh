#!/usr/bin/env bash
# Prints the directory that holds a working Pulumi CLI for this project, so
# callers can do:
#
#     export PATH="$(scripts/pulumi-cli.sh):$PATH"
#
# * If a `pulumi` is already on PATH (other than ours), its directory is
#   printed as is (a warning goes to stderr when it is not v3.248.0).
#   Set PULUMI_CLI_FORCE_BUILD=1 to ignore it and use/build ours.
# * Otherwise the CLI is built from the Go module proxy into
#   .tools/pulumi/bin (git-ignored), together with a Node.js language host
#   (scripts/pulumi-cli/pulumi-language-nodejs, see its main.go for why it is
#   ours and not upstream's), and the @pulumi/pulumi dynamic-provider shim
#   (pulumi-resource-pulumi-nodejs) from node_modules is symlinked next to
#   them. Run `npm ci` first so the shim can be linked.
# * Builds are skipped when the binaries are already there at the right
#   version. A cold build takes about 5-6 minutes on 2 cores.
#
# Only the directory goes to stdout; all logs go to stderr. Exits non-zero,
# with a message, when the CLI cannot be provided.
set -euo pipefail

PULUMI_VERSION="v3.248.0"
CLI_PKG="github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
VERSION_VAR="github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
MODDIR="$ROOT/scripts/pulumi-cli"
TOOLS="$ROOT/.tools/pulumi"
BIN="$TOOLS/bin"

log() { printf 'pulumi-cli.sh: %s\n' "$*" >&2; }
die() {
  printf 'pulumi-cli.sh: ERROR: %s\n' "$*" >&2
  exit 1
}

# --- 1. a pulumi already on PATH --------------------------------------------
if [[ "${PULUMI_CLI_FORCE_BUILD:-}" != "1" ]]; then
  IFS=: read -r -a path_dirs <<<"${PATH:-}"
  for d in "${path_dirs[@]}"; do
    [[ -n "$d" && -x "$d/pulumi" && ! -d "$d/pulumi" ]] || continue
    real_d="$(cd "$d" 2>/dev/null && pwd -P)" || continue
    [[ "$real_d" == "$BIN" ]] && continue
    found_version="$(PULUMI_SKIP_UPDATE_CHECK=true "$d/pulumi" version 2>/dev/null | head -n1 || true)"
    if [[ "$found_version" != "$PULUMI_VERSION" ]]; then
      log "warning: using $d/pulumi (version '${found_version:-unknown}', this project pins $PULUMI_VERSION);" \
        "set PULUMI_CLI_FORCE_BUILD=1 to build the pinned one instead"
    fi
    printf '%s\n' "$real_d"
    exit 0
  done
fi

mkdir -p "$BIN"

# Serialize concurrent callers (parallel jest workers, etc.).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS/.lock"
  flock 9
fi

# --- 2. build (or reuse) the binaries -----------------------------------------
hash_files() { cat "$@" | sha256sum | cut -d' ' -f1; }

binary_version() { # prints the version a binary reports, or nothing
  PULUMI_SKIP_UPDATE_CHECK=true "$@" 2>/dev/null | head -n1 || true
}

langhost_stamp() {
  printf '%s %s %s\n' "$PULUMI_VERSION" "$(go env GOVERSION 2>/dev/null || echo nogo)" \
    "$(hash_files "$MODDIR/go.mod" "$MODDIR/go.sum" "$MODDIR"/pulumi-language-nodejs/*.go)"
}

need_cli=1
need_langhost=1
if [[ -x "$BIN/pulumi" && "$(binary_version "$BIN/pulumi" version)" == "$PULUMI_VERSION" ]]; then
  need_cli=0
fi
if [[ -x "$BIN/pulumi-language-nodejs" &&
  "$(binary_version "$BIN/pulumi-language-nodejs" -version)" == "$PULUMI_VERSION" ]]; then
  # Rebuild the (small) language host when its source changes.
  if ! command -v go >/dev/null 2>&1 || [[ "$(cat "$TOOLS/langhost.stamp" 2>/dev/null)" == "$(langhost_stamp)" ]]; then
    need_langhost=0
  fi
fi

if ((need_cli || need_langhost)); then
  command -v go >/dev/null 2>&1 ||
    die "Go is not on PATH; it is needed to build the Pulumi CLI $PULUMI_VERSION (install the Debian 'golang' package or put go on PATH)"

  pkgs=()
  ((need_cli)) && pkgs+=("$CLI_PKG")
  ((need_langhost)) && pkgs+=("./pulumi-language-nodejs")
  log "building ${pkgs[*]} at $PULUMI_VERSION with $(go env GOVERSION) into $BIN (a cold build takes ~5-6 min on 2 cores)..."

  out="$(mktemp -d "$TOOLS/build.XXXXXX")"
  trap 'rm -rf "$out"' EXIT
  start=$SECONDS
  # -mod=readonly: go.mod/go.sum are committed and complete; never rewrite them.
  if ! (cd "$MODDIR" && go build -mod=readonly -buildvcs=false -trimpath \
    -ldflags "-s -w -X $VERSION_VAR=$PULUMI_VERSION" \
    -o "$out/" "${pkgs[@]}") >&2; then
    die "go build of the Pulumi CLI failed (see the go output above). It needs the Go module proxy" \
      "(GOPROXY=$(go env GOPROXY)) and Go >= 1.25.11; run 'cd scripts/pulumi-cli && go mod download' to check."
  fi
  for b in pulumi pulumi-language-nodejs; do
    [[ -f "$out/$b" ]] || continue
    got="$(binary_version "$out/$b" "$([[ $b == pulumi ]] && echo version || echo -version)")"
    [[ "$got" == "$PULUMI_VERSION" ]] || die "built $b reports version '$got', expected $PULUMI_VERSION"
    mv -f "$out/$b" "$BIN/$b"
  done
  ((need_langhost)) && langhost_stamp >"$TOOLS/langhost.stamp"
  log "build finished in $((SECONDS - start))s"
fi

# --- 3. plugin shims from node_modules ---------------------------------------
# The engine finds plugins next to the pulumi binary as well as on PATH.
sdk_dir="$ROOT/node_modules/@pulumi/pulumi"
if [[ -x "$sdk_dir/pulumi-resource-pulumi-nodejs" ]]; then
  ln -sfn "$sdk_dir/pulumi-resource-pulumi-nodejs" "$BIN/pulumi-resource-pulumi-nodejs"
else
  rm -f "$BIN/pulumi-resource-pulumi-nodejs"
  log "warning: $sdk_dir/pulumi-resource-pulumi-nodejs not found (run 'npm ci' first);" \
    "programs using pulumi.dynamic.Resource will fail until it is linked (re-run this script)"
fi
# Policy-pack analyzer shims, if some installed package ships them.
shopt -s nullglob
for shim in "$ROOT"/node_modules/@pulumi/*/pulumi-analyzer-policy*; do
  [[ "$shim" == *.cmd || ! -x "$shim" ]] && continue
  ln -sfn "$shim" "$BIN/$(basename "$shim")"
done
shopt -u nullglob

printf '%s\n' "$BIN"
