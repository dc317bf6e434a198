/**
 * Why an optional dependency is absent, in the words health and the admin
 * pages use. By default the remedy is its variable ("not configured (set
 * PROMETHEUS_URL)"); whoever starts the service may know better and say so —
 * the demo sets the URLs itself, and leaves one empty only when it could not
 * start the part (not installed, not built).
 */
export type OptionalPart = 'prometheus' | 'alertmanager' | 'collector';

/** A sentence per part that could not be started, saying why and what to do (e.g. "prometheus is not installed. As root run …"). */
export type Unavailable = Partial<Record<OptionalPart, string>>;

export const PART_VARIABLES: Record<OptionalPart, string> = {
  prometheus: 'PROMETHEUS_URL',
  alertmanager: 'ALERTMANAGER_URL',
  collector: 'COLLECTOR_HEALTH_URL',
};

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * "`what` is not configured (set VAR): `consequence`." or, with a reason,
 * "`what` is not running: `reason` `Consequence`."
 */
export function absentDetail(what: string, part: OptionalPart, consequence: string, unavailable: Unavailable = {}): string {
  const reason = unavailable[part];
  return reason ? `${what} is not running: ${reason} ${capitalize(consequence)}.` : `${what} is not configured (set ${PART_VARIABLES[part]}): ${consequence}.`;
}

/** "`needs` Prometheus: set PROMETHEUS_URL", or with a reason "`needs` Prometheus, which is not running: `reason`". */
export function needsPrometheus(needs: string, unavailable: Unavailable = {}): string {
  return unavailable.prometheus ? `${needs} Prometheus, which is not running: ${unavailable.prometheus}` : `${needs} Prometheus: set PROMETHEUS_URL`;
}
