/**
 * Every client connection is a file descriptor, and a loopback target shares
 * one ephemeral port range: check both before opening thousands of sockets,
 * so the run fails up front with a fix instead of halfway with EMFILE.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Descriptors the process needs beyond its connections (stdio, worker pipes, the loader, DNS). */
export const FD_HEADROOM = 64;

export interface FdLimits {
  soft: number;
  hard: number;
}

function parseLimit(value: string): number {
  return value === 'unlimited' ? Number.POSITIVE_INFINITY : Number.parseInt(value, 10);
}

/** Reads the open-files limits from /proc/self/limits, or from `ulimit` where there is no procfs. */
export function readFdLimits(): FdLimits {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const match = line?.match(/^Max open files\s+(\S+)\s+(\S+)/);
    if (match) return { soft: parseLimit(match[1] as string), hard: parseLimit(match[2] as string) };
  } catch {
    // No procfs (macOS, BSD): ask the shell below.
  }
  const soft = execFileSync('/bin/sh', ['-c', 'ulimit -Sn'], { encoding: 'utf8' }).trim();
  const hard = execFileSync('/bin/sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
  return { soft: parseLimit(soft), hard: parseLimit(hard) };
}

/** Throws a message that says how to raise the limit when `connections` cannot fit under it. */
export function assertFdCapacity(connections: number, limits: FdLimits = readFdLimits()): void {
  const needed = connections + FD_HEADROOM;
  if (needed <= limits.soft) return;
  const target = Math.max(needed, 65536);
  const raise =
    needed <= limits.hard
      ? `raise it in this shell with \`ulimit -n ${Math.min(target, limits.hard)}\` (the hard limit is ${limits.hard})`
      : `the hard limit is ${limits.hard} too: as root run \`ulimit -n ${target}\` in the shell, or raise \`nofile\` in /etc/security/limits.conf (LimitNOFILE= for a systemd unit)`;
  throw new Error(
    `${connections} connections need about ${needed} open files, but the soft limit (ulimit -n) is ${limits.soft}; ${raise}, then run again`,
  );
}

/**
 * Size of the local ephemeral port range: the most connections one client
 * address can hold to one server address and port.
 */
export function ephemeralPortCount(): number | null {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && high !== undefined && high >= low ? high - low + 1 : null;
  } catch {
    return null;
  }
}
