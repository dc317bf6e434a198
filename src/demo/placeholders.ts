/**
 * Literal values in the shipped configs that the native stack replaces, like
 * the compose hostnames src/stack/endpoints.ts substitutes. Kept apart from
 * run-demo.ts so config tests can read them without starting anything.
 */

/**
 * The bearer token alertmanager/alertmanager.yml sends to the analytics
 * webhook until it is replaced: natively the demo substitutes the real token
 * (like an endpoint), in docker-compose the alertmanager entrypoint turns the
 * line into a credentials_file holding ALERTMANAGER_WEBHOOK_TOKEN.
 */
export const WEBHOOK_TOKEN_PLACEHOLDER = 'alertmanager-webhook-token-not-set';

/** prometheus/prometheus.yml's target for Prometheus itself (the compose service name). */
export const PROMETHEUS_SELF_TARGET = 'prometheus:9090';
