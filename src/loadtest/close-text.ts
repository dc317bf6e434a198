/**
 * A server's close frame as a connection test shows it, in the CLI and on the
 * admin page's Testing tab alike (no Node imports: the admin bundle uses it).
 */

/** The code, then the reason quoted (servers echo ours, which would otherwise read as part of the line); the code alone when the reason is empty. */
export function closeText(close: { code: number; reason: string }): string {
  return close.reason ? `${close.code} ${JSON.stringify(close.reason)}` : String(close.code);
}
