/**
 * The one `socketscope` command. Each subcommand lives in src/commands/<name>.ts
 * and loads its heavy modules only when it runs, so `--help` stays instant.
 */
import { Command } from 'commander';
import { registerDemo } from './commands/demo.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerServe } from './commands/serve.ts';
import { registerAnomalies } from './commands/anomalies.ts';
import { registerLoad } from './commands/load.ts';
import { registerConnectionTest } from './commands/connection-test.ts';

const program = new Command()
  .name('socketscope')
  .description('OpenTelemetry-centric observability for WebSocket applications')
  .version('0.1.0')
  .showHelpAfterError();

registerDemo(program);
registerDoctor(program);
registerMigrate(program);
registerServe(program);
registerAnomalies(program);
registerLoad(program);
registerConnectionTest(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`socketscope: ${(error as Error).message}`);
  process.exitCode = 1;
}
