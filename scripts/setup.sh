#!/usr/bin/env bash
# Installs everything socketscope needs to run and test, idempotently; quick
# when all is present. As root it installs Debian packages; otherwise it names
# what is missing and how to install it, and fails.
# --demo (npm start): the demo runs without the Debian packages and the
# collector (it says which parts are missing), so for it their absence is a
# warning; Node, the npm packages and the built assets are still required.
set -euo pipefail
cd "$(dirname "$0")/.."

demo=false
for arg in "$@"; do
  case $arg in
    --demo) demo=true ;;
    *) echo "setup: unknown option $arg (usage: setup.sh [--demo])" >&2; exit 2 ;;
  esac
done

say() { echo "setup: $*"; }
fail() { echo "setup: $*" >&2; exit 1; }
# A missing optional part: fatal for the tests, a warning for the demo.
lacking() { if $demo; then echo "setup: warning: $* The demo starts anyway and reports what is missing." >&2; else fail "$*"; fi; }

cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/socketscope
mkdir -p "$cache_root"
# Concurrent runs (two test commands at once) take turns.
exec 9>"$cache_root/setup.lock"
flock 9

# 1. Node
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=6)?0:1)' \
  || fail "Node >= 20.6 is required (found $(node --version))."

# 2. Debian packages: "command|package"
required=(
  "prometheus|prometheus"
  "promtool|prometheus"
  "prometheus-alertmanager|prometheus-alertmanager"
  "amtool|prometheus-alertmanager"
  "/usr/lib/chromium/chromium|chromium"
  "docker-compose|docker-compose"
  "/usr/lib/postgresql/*/bin/initdb|postgresql"
)
missing=()
for entry in "${required[@]}"; do
  cmd=${entry%%|*}; pkg=${entry##*|}
  if [[ $cmd == /* ]]; then
    compgen -G "$cmd" >/dev/null || missing+=("$pkg")
  else
    command -v "$cmd" >/dev/null || missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -eq 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
      || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
      || lacking "apt-get could not install: ${missing[*]}."
  else
    lacking "missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}."
  fi
fi

# 3. npm packages, when package-lock.json changed since the last install:
#    `npm ci` on a fresh clone; `npm install` (which never deletes node_modules
#    under a running process) when only the lock file moved on. The stamp holds
#    the hash of the lock file as the install left it: `npm install` may
#    rewrite it, and a hash taken before would make the next run reinstall.
lock_hash() { (cat package-lock.json; node --version) | sha256sum | cut -c1-16; }
stamp=node_modules/.socketscope-installed
if [ "$(cat "$stamp" 2>/dev/null)" != "$(lock_hash)" ]; then
  if [ -d node_modules ]; then
    say "updating npm packages (npm install)"
    npm install --no-audit --no-fund --loglevel=error
  else
    say "installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
  lock_hash > "$stamp"
fi

# 4. The packages we publish: the web SDK bundle (esbuild; well under a second) and the server
#    SDK (tsc, a few seconds), the admin pages' assets and the demo page's (the OTel API it maps).
npm run --silent build -w @socketscope/web-sdk -- --quiet
npm run --silent build -w @socketscope/instrumentation-ws
node --import tsx src/admin/build.ts --quiet
node --import tsx src/demo/build.ts
# The root package's library entry points (socketscope/telemetry, /catalogue, /loadtest) as
# JavaScript for apps that run plain node (tsc, ~20 s): only when a source changed since.
if [ -n "$(find src web-sdk/src tsconfig.base.json tsconfig.lib.json -path '*/dist' -prune -o \( -name '*.ts' -o -name '*.json' \) -newer dist/.tsbuildinfo -print -quit 2>/dev/null)" ] || [ ! -f dist/.tsbuildinfo ]; then
  node scripts/compile-typescript.mjs tsconfig.lib.json dist && touch dist/.tsbuildinfo
fi

# 5. Our collector build (cached; a no-op when the manifest is unchanged).
bash scripts/build-collector.sh || lacking "the collector could not be built (above: why)."
