import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

export interface StartOptions {
  /** Short name used in logs and errors, e.g. `prometheus`. */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr of the process are appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Optional uid/gid (e.g. to run PostgreSQL tools as `postgres` when we are root). */
  uid?: number;
  gid?: number;
  /** The signal that asks this program to shut down cleanly (PostgreSQL: SIGINT, "fast"). */
  stopSignal?: NodeJS.Signals;
}

const live = new Set<ManagedProcess>();

/**
 * A child process in its own process group, so stopping it also stops anything
 * it forked. Every live one is killed when this Node process exits, whatever
 * the reason (test failure, uncaught error, SIGINT/SIGTERM/SIGHUP; see
 * leaveShutdownToApp for applications that handle those signals themselves).
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly name: string;
  readonly logFile: string;
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private readonly stopSignal: NodeJS.Signals;

  constructor(options: StartOptions) {
    this.name = options.name;
    this.logFile = options.logFile;
    this.stopSignal = options.stopSignal ?? 'SIGTERM';
    const log = createWriteStream(options.logFile, { flags: 'a' });
    this.child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: options.uid,
      gid: options.gid,
    });
    this.child.stdout?.pipe(log, { end: false });
    this.child.stderr?.pipe(log, { end: false });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        log.write(`\n[socketscope] spawn failed: ${error.message}\n`);
        this.exitCode = null;
        live.delete(this);
        resolve(null);
      });
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        live.delete(this);
        resolve(this.exitCode);
      });
    });
    this.exited.then(() => log.end()).catch(() => undefined);
    live.add(this);
    installExitHooks();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Resolves with the exit code once the process has exited. */
  waitForExit(): Promise<number | null> {
    return this.exited;
  }

  /** The tail of the process's log, for error messages. */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** The stop signal to the whole group, SIGKILL after `graceMs`; resolves once exited. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    signalGroup(this, this.stopSignal);
    const timer = setTimeout(() => signalGroup(this, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    // Children of the group leader (e.g. forked helpers) may outlive it.
    signalGroup(this, 'SIGKILL');
  }
}

function signalGroup(proc: ManagedProcess, signal: NodeJS.Signals): void {
  const pid = proc.pid;
  if (pid !== undefined) signalProcessGroup(pid, signal);
}

/** Signals the process group led by `pid`; a group that is already gone is not an error. */
export function signalProcessGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Process groups the stack did not spawn itself but owns (Chromium, which
 * playwright starts as the leader of its own group), each with the function
 * that closes it properly: killed with the managed ones on exit or on a signal.
 */
const adoptedGroups = new Map<number, () => Promise<void>>();

/**
 * Kills the group led by `pid` with the managed processes. On a signal the
 * stack also awaits `close` after the kill (for Chromium, playwright then
 * removes the browser's temporary profile). The returned function forgets it.
 */
export function adoptProcessGroup(pid: number, close: () => Promise<void>): () => void {
  adoptedGroups.set(pid, close);
  installExitHooks();
  return () => {
    adoptedGroups.delete(pid);
  };
}

/** Kills every live managed (and adopted) process group at once; safe inside an 'exit' handler. */
export function killAllManaged(): void {
  for (const proc of live) signalGroup(proc, 'SIGKILL');
  live.clear();
  for (const pid of adoptedGroups.keys()) signalProcessGroup(pid, 'SIGKILL');
  adoptedGroups.clear();
}

/** Who stops the stacks on SIGINT/SIGTERM/SIGHUP; undefined (the stack) until the application says. */
let shutdownOwner: 'app' | 'stack' | undefined;
let shutdownSignalled = false;

/**
 * Declares whether the application handles SIGINT/SIGTERM/SIGHUP itself and
 * stops its stacks on its own (the demo's graceful shutdown); call it where the
 * application installs its signal listeners. `false` (tests, scripts): the
 * stack owns these signals — it kills every service it started at once and the
 * process then dies by the signal, whatever other listeners exist. `true`: the
 * first signal is left to the application; any later one still kills every
 * service and the process (an impatient second Ctrl-C leaves nothing behind).
 */
export function leaveShutdownToApp(enabled = true): void {
  shutdownOwner = enabled ? 'app' : 'stack';
}

/** The application's declaration (leaveShutdownToApp) decides; undeclared, the stack owns the signals. */
function appHandles(): boolean {
  return shutdownOwner === 'app';
}

function onSignal(signal: NodeJS.Signals): void {
  if (!shutdownSignalled && appHandles()) {
    shutdownSignalled = true;
    return; // the application stops its stacks; the 'exit' hook still catches the rest
  }
  const closers = [...adoptedGroups.values()];
  killAllManaged();
  // Dying by a signal skips the 'exit' listeners, among them playwright's that
  // removes a browser's temporary profile: closing the killed browsers does
  // that cleanup first (bounded, should a close hang).
  let timer: NodeJS.Timeout | undefined;
  const closed = Promise.allSettled(closers.map((close) => close()));
  void Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, 3_000)))]).then(() => {
    clearTimeout(timer);
    // With no listener left, the re-raised signal takes its default action.
    // The other listeners have already run for this delivery.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
}

let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAllManaged);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}
