import type { Command } from 'commander';
import { COMPONENTS, findBinary, type ComponentName } from '../stack/binaries.ts';

/** `socketscope doctor`: which local components are installed, and how to get the others. */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('show which local components (Prometheus, Alertmanager, collector, Chromium, …) are installed')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) => {
      const rows = (Object.keys(COMPONENTS) as ComponentName[]).map((name) => ({
        component: name,
        path: findBinary(name) ?? null,
        install: COMPONENTS[name].install,
      }));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      for (const row of rows) {
        console.log(`${row.path ? 'ok     ' : 'missing'} ${row.component.padEnd(13)} ${row.path ?? row.install}`);
      }
      if (rows.some((row) => !row.path)) process.exitCode = 1;
    });
}
