import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** A required executable that is not installed: the message says how to get it. */
export class MissingComponentError extends Error {
  constructor(
    readonly component: string,
    readonly install: string,
  ) {
    super(`${component} is not installed. ${install}`);
    this.name = 'MissingComponentError';
  }
}

const APT = 'As root run `npm run setup` (or `apt-get install -y --no-install-recommends';

export const COMPONENTS = {
  prometheus: { bin: 'prometheus', install: `${APT} prometheus\`).` },
  promtool: { bin: 'promtool', install: `${APT} prometheus\`).` },
  alertmanager: { bin: 'prometheus-alertmanager', install: `${APT} prometheus-alertmanager\`).` },
  amtool: { bin: 'amtool', install: `${APT} prometheus-alertmanager\`).` },
  chromium: { bin: 'chromium', install: `${APT} chromium\`).` },
  dockerCompose: { bin: 'docker-compose', install: `${APT} docker-compose\`).` },
  initdb: { bin: 'initdb', install: `${APT} postgresql\`).` },
  collector: {
    bin: 'socketscope-otelcol',
    install: 'Build it with `npm run setup` (scripts/build-collector.sh needs Go and the Go module proxy).',
  },
} as const;

export type ComponentName = keyof typeof COMPONENTS;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function searchPath(bin: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(delimiter)];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, bin);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Where each component lives when it is not simply on PATH. */
function extraDirs(name: ComponentName): string[] {
  switch (name) {
    case 'collector':
      // scripts/build-collector.sh links the cached build here.
      return [join(REPO_ROOT, 'collector', '_build')];
    case 'initdb':
      // Debian keeps the server binaries off PATH, one directory per major version.
      return postgresBinDirs();
    case 'chromium':
      // The real binary; /usr/bin/chromium is a shell wrapper that prints a warning.
      return ['/usr/lib/chromium'];
    default:
      return [];
  }
}

/**
 * Debian's `/usr/lib/postgresql/<major>/bin` directories, any version (like
 * scripts/setup.sh's glob), newest first.
 */
export function postgresBinDirs(root = '/usr/lib/postgresql'): string[] {
  let versions: string[];
  try {
    versions = readdirSync(root).filter((entry) => /^\d+(\.\d+)?$/.test(entry));
  } catch {
    return [];
  }
  return versions.sort((a, b) => Number(b) - Number(a)).map((version) => join(root, version, 'bin'));
}

/** The absolute path of a component, or undefined when it is not installed. */
export function findBinary(name: ComponentName): string | undefined {
  // An explicit collector path wins; one that does not exist means "no collector".
  const explicit = process.env.SOCKETSCOPE_OTELCOL;
  if (name === 'collector' && explicit) return isExecutable(explicit) ? explicit : undefined;
  return searchPath(COMPONENTS[name].bin, extraDirs(name));
}

/** The absolute path of a component; throws MissingComponentError naming how to install it. */
export function requireBinary(name: ComponentName): string {
  const found = findBinary(name);
  if (!found) throw new MissingComponentError(COMPONENTS[name].bin, COMPONENTS[name].install);
  return found;
}
