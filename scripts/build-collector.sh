#!/usr/bin/env bash
# Builds socketscope's minimal OpenTelemetry Collector from collector/manifest.yaml
# with the OpenTelemetry Collector Builder, once per manifest: the binary is
# cached under ~/.cache/socketscope keyed by the manifest's hash, so a second
# run (or a fresh clone on the same machine) only re-links it.
set -euo pipefail
cd "$(dirname "$0")/.."

manifest=collector/manifest.yaml
version=$(sed -n 's/^  version: *\([0-9.]*\).*/\1/p' "$manifest" | head -n1)
[ -n "$version" ] || { echo "build-collector: no dist.version in $manifest" >&2; exit 1; }
command -v go >/dev/null || {
  echo "build-collector: Go is not installed; it is needed once to build the collector (https://go.dev/dl/)." >&2
  exit 1
}

# The oldest Go that builds the builder and the components at $version: the
# highest `go` directive of their go.mod files (1.26.0 for v0.161.0). Debian
# bookworm's golang (1.19) is far older. `go list -m` reads only the go.mod
# files (from the module cache or the proxy); when it cannot, the known floor
# for this pin is used.
go_min_fallback=1.26.0
go_below() { # go_below A B: true when Go version A is older than B
  [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$1" ]
}
check_go_version() {
  local have need modules
  have=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
  mapfile -t modules < <(sed -n 's/^ *- gomod: *\([^ ]*\) \([^ ]*\).*/\1@\2/p' "$manifest")
  # Outside any module (/), so only the queried versions count.
  need=$( { (cd / && GOWORK=off go list -m -f '{{.GoVersion}}' "go.opentelemetry.io/collector/cmd/builder@v$version" "${modules[@]}" 2>/dev/null) || true; } \
    | { grep -E '^[0-9]+(\.[0-9]+)*$' || true; } | sort -V | tail -n1)
  need=${need:-$go_min_fallback}
  if [ -z "$have" ] || go_below "$have" "$need"; then
    echo "build-collector: the collector v$version needs Go >= $need, found ${have:-an unknown version} ($(command -v go))." >&2
    echo "build-collector: install Go $need or newer from https://go.dev/dl/ (Debian bookworm's golang package is 1.19, too old)." >&2
    exit 1
  fi
}

cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/socketscope
hash=$( (cat "$manifest"; go env GOVERSION) | sha256sum | cut -c1-12)
out_dir=$cache_root/otelcol-$version-$hash
binary=$out_dir/socketscope-otelcol
link=collector/_build/socketscope-otelcol

if [ ! -x "$binary" ]; then
  check_go_version
  builder=$cache_root/builder-$version/builder
  if [ ! -x "$builder" ]; then
    echo "build-collector: installing the Collector Builder v$version"
    GOBIN=$cache_root/builder-$version go install "go.opentelemetry.io/collector/cmd/builder@v$version"
  fi
  work=$(mktemp -d "$cache_root/build-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  sed "s#^  output_path:.*#  output_path: $work/src#" "$manifest" > "$work/manifest.yaml"
  echo "build-collector: building socketscope-otelcol $version (a few minutes the first time)"
  start=$(date +%s)
  "$builder" --config "$work/manifest.yaml" > "$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; exit 1; }
  mkdir -p "$out_dir"
  mv "$work/src/socketscope-otelcol" "$binary.tmp" && mv "$binary.tmp" "$binary"
  echo "build-collector: built in $(( $(date +%s) - start )) s → $binary"
fi

mkdir -p "$(dirname "$link")"
ln -sfn "$binary" "$link"
