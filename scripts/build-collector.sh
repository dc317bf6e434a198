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
  echo "build-collector: Go is not installed; it is needed once to build the collector (https://go.dev/doc/install, or Debian's golang package)." >&2
  exit 1
}

cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/socketscope
hash=$( (cat "$manifest"; go env GOVERSION) | sha256sum | cut -c1-12)
out_dir=$cache_root/otelcol-$version-$hash
binary=$out_dir/socketscope-otelcol
link=collector/_build/socketscope-otelcol

if [ ! -x "$binary" ]; then
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
