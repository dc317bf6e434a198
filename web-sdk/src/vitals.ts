/**
 * @socketscope/web-sdk/vitals: page signals (Web Vitals, page load,
 * interactions, uncaught errors) for the client report and the OTel export.
 *
 *   initSocketScope({ plugins: [pageSignals(), otlpExport({...})] })
 */
export { pageSignals } from './vitals/page-signals.ts';
