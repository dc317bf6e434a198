/**
 * socketscope's load generator and connection tests as a library:
 *
 *   const report = await runLoadTest({ url, profile: 'medium' }, { signal, onProgress });
 *   const echo = await runConnectionTest('echo', { url, count: 20, signal });
 */
export { runLoadTest, runLoadPlan, assertCapacity } from './engine.ts';
export { resolveLoadPlan, parseDurationS, parseStages, loadTestInputSchema, type LoadTestInput } from './plan.ts';
export { PROFILE_NAMES, SIZE_PROFILES, ALERT_DRILL, alertDrillStages, isProfileName, type ProfileName } from './profiles.ts';
export { checkGates, formatReport, type Gates } from './report.ts';
export { formatProgress, progressWriter, type ProgressWriter } from './progress.ts';
export { PLACEHOLDERS, DEFAULT_TEMPLATE } from './template.ts';
export { readFdLimits, assertFdCapacity } from './fd-limit.ts';
export { pinnedLookup, type ResolvedAddress } from './handshake.ts';
export {
  runConnectionTest,
  CONNECTION_TESTS,
  type ConnectionTestKind,
  type ConnectionTestResult,
  type BasicTestOptions,
  type BasicTestResult,
  type EchoTestOptions,
  type EchoTestResult,
  type PoolTestOptions,
  type PoolTestResult,
} from './connection-tests.ts';
export type { LoadPlan, LoadReport, LoadProgress, LatencySummary, EchoLatencySummary, ReportStage, RunOptions, Stage, WorkerShare } from './types.ts';
