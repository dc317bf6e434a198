/**
 * Alerts: GET (active from Alertmanager, recent from our record of its
 * webhook, reconciled with Alertmanager on every read), acknowledge (who and
 * when, plus an Alertmanager silence), and the webhook Alertmanager posts to.
 */
import { z } from 'zod';
import type { GettableAlert, GettableSilence } from '../../analytics/alertmanager.ts';
import { UpstreamError } from '../../analytics/http-json.ts';
import {
  type Acknowledgement,
  type StoredAlert,
  databaseNow,
  findAlertByFingerprint,
  insertAcknowledgement,
  latestAcknowledgements,
  listAlerts,
  listFiringAlerts,
  reconcileAlerts,
  upsertAlerts,
} from '../../analytics/storage/alerts.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { type Route, defineRoute } from '../route-spec.ts';
import { TIMESTAMP_MAX, TIMESTAMP_MIN, inTimestampRange, resolveRange, storable, storedTimestamp, timeRangeQuery } from '../schemas/common.ts';
import { acknowledgeResponseSchema, alertsSchema, type alertSchema } from '../schemas/responses.ts';

type AlertView = z.input<typeof alertSchema>;

/** The alerts list with why it did not come from Alertmanager, when it did not. */
export const alertsResponseSchema = alertsSchema
  .extend({
    warning: z.string().nullable().meta({
      description:
        'Set when Alertmanager is configured but did not answer: `active` then comes from the webhook record (`active_source: database`) with the staleness rule, and says so here; null otherwise',
    }),
  })
  .meta({ id: 'Alerts' });

/** Alertmanager writes this for "no end" on firing alerts. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

function ackJson(ack: Acknowledgement) {
  return { acknowledged_by: ack.acknowledged_by, comment: ack.comment, acknowledged_at: ack.acknowledged_at.toISOString(), silence_id: ack.silence_id, silence_ends_at: ack.silence_ends_at.toISOString() };
}

/**
 * The acknowledgement that belongs to an alert instance starting at `startsAt`: one made while it
 * fired, or one whose silence still holds. A fingerprint's older acknowledgement (the same labels
 * firing again after the silence ended) does not carry over.
 */
function ackView(ack: Acknowledgement | undefined, startsAt: Date, now = new Date()) {
  if (ack === undefined) return null;
  return ack.acknowledged_at.getTime() >= startsAt.getTime() || ack.silence_ends_at.getTime() > now.getTime() ? ackJson(ack) : null;
}

function fromAlertmanager(alert: GettableAlert, ack?: Acknowledgement): AlertView {
  return {
    id: alert.fingerprint,
    alertname: alert.labels.alertname ?? 'unknown',
    severity: alert.labels.severity ?? null,
    status: alert.status.state,
    labels: alert.labels,
    annotations: alert.annotations,
    starts_at: alert.startsAt,
    ends_at: alert.endsAt.startsWith('0001-') ? null : alert.endsAt,
    resolved_by: null,
    last_delivered_at: null,
    acknowledgement: ackView(ack, new Date(alert.startsAt)),
  };
}

/** A stored instance; with `staleBefore` (no Alertmanager), a firing one last delivered before it reads `stale`. */
function fromDatabase(alert: StoredAlert, ack?: Acknowledgement, staleBefore?: Date | null): AlertView {
  const stale = alert.status === 'firing' && staleBefore != null && alert.updated_at.getTime() < staleBefore.getTime();
  return {
    id: alert.fingerprint,
    alertname: alert.alertname,
    severity: alert.severity,
    status: alert.status === 'resolved' ? 'resolved' : stale ? 'stale' : 'active',
    labels: alert.labels,
    annotations: alert.annotations,
    starts_at: alert.starts_at.toISOString(),
    ends_at: alert.ends_at?.toISOString() ?? null,
    resolved_by: alert.resolved_by,
    last_delivered_at: alert.updated_at.toISOString(),
    acknowledgement: ackView(ack, alert.starts_at),
  };
}

/** Go's zero time, as Alertmanager writes it (fractional seconds allowed). */
const isZeroTime = (value: string) => /^0001-01-01T00:00:00(\.0+)?Z$/.test(value);
const anyDateTime = z.iso.datetime({ offset: true });

// Every string stored (labels, annotations, fingerprint, URL) is storable and every time in range:
// anything else would fail the upsert in PostgreSQL as a 500, and Alertmanager retries 5xx.
const storedText = () => storable(z.string());
const webhookAlert = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: z.record(storedText(), storedText()),
  annotations: z.record(storedText(), storedText()).default({}),
  startsAt: storedTimestamp(),
  endsAt: z
    .string()
    .refine((v) => isZeroTime(v) || (anyDateTime.safeParse(v).success && inTimestampRange(v)), `must be ${ZERO_TIME} (no end) or an ISO 8601 date-time with zone from ${TIMESTAMP_MIN} up to (not including) ${TIMESTAMP_MAX}`)
    .optional(),
  generatorURL: storedText().optional(),
  fingerprint: storedText().min(1).max(64),
});

export const webhookBodySchema = z
  .looseObject({
    version: z.string(),
    status: z.enum(['firing', 'resolved']),
    receiver: z.string(),
    alerts: z.array(webhookAlert).max(10_000),
  })
  .meta({ id: 'AlertmanagerWebhook', description: 'Alertmanager webhook payload (version 4)' });

/**
 * The silence of the fingerprint's latest acknowledgement, when it has not ended: by our record (its end
 * is in the future) and in Alertmanager (still active: not expired there by hand). Undefined otherwise.
 */
async function heldSilence(ctx: ApiContext, fingerprint: string, now: Date): Promise<GettableSilence | undefined> {
  const latest = (await latestAcknowledgements(ctx.database.pool, [fingerprint])).get(fingerprint);
  if (!latest || !ctx.alertmanager || latest.silence_ends_at.getTime() <= now.getTime()) return undefined;
  try {
    const silence = await ctx.alertmanager.silence(latest.silence_id);
    return silence.status.state === 'active' ? silence : undefined;
  } catch (error) {
    // Gone from Alertmanager (its data lost, or garbage-collected): a new silence it is.
    if (error instanceof UpstreamError && error.status === 404) return undefined;
    throw error;
  }
}

export function alertRoutes(ctx: ApiContext): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/ws/alerts',
      tag: 'alerts',
      summary: 'Active alerts (from Alertmanager) and recent ones (those that fired within from..to, from the webhook record, reconciled with Alertmanager)',
      description:
        'With ALERTMANAGER_URL, every read first marks resolved (`resolved_by: reconciliation`) the recorded firing alerts Alertmanager no longer has: it sends no resolved notification for an alert that resolved while silenced or inhibited. Without it, a firing alert not delivered again for ALERT_STALE_AFTER_SECONDS is `stale` and not in `active`. When Alertmanager is configured but does not answer, the same: `active_source: database`, reconciliation by staleness, and `warning` says why (502 only when the record cannot be read either). `recent` holds at most `limit` alerts, firing ones first; `truncated` says when more matched.',
      access: 'admin',
      query: timeRangeQuery.extend({ limit: z.coerce.number().int().min(1).max(5000).default(500).meta({ description: 'Most alerts in `recent` (default 500)' }) }),
      status: 200,
      response: alertsResponseSchema,
      errors: [502],
      async handler({ query }) {
        const range = resolveRange(query);
        const pool = ctx.database.pool;
        let activeAm: GettableAlert[] | undefined;
        let resolved = 0;
        let upstream: UpstreamError | undefined;
        if (ctx.alertmanager) {
          const checkedAt = await databaseNow(pool);
          try {
            activeAm = await ctx.alertmanager.alerts();
          } catch (error) {
            // Alertmanager down is when the record matters most: served from it, saying so.
            if (!(error instanceof UpstreamError)) throw error;
            upstream = error;
            ctx.logger.warn({ err: error }, 'alerts: Alertmanager did not answer; serving the webhook record');
          }
          if (activeAm) resolved = await reconcileAlerts(pool, activeAm, checkedAt);
        }
        const staleAfter = ctx.config.alertStaleAfterSeconds;
        const read = async () => {
          const staleBefore = activeAm ? null : new Date((await databaseNow(pool)).getTime() - staleAfter * 1000);
          const [recent, firing] = await Promise.all([listAlerts(pool, range, { limit: query.limit, staleBefore }), staleBefore ? listFiringAlerts(pool, staleBefore) : undefined]);
          const fingerprints = [...new Set([...recent.alerts, ...(firing ?? []), ...(activeAm ?? [])].map((a) => a.fingerprint))];
          return { staleBefore, recent, firing, acks: await latestAcknowledgements(pool, fingerprints) };
        };
        let listed: Awaited<ReturnType<typeof read>>;
        try {
          listed = await read();
        } catch (error) {
          // Neither Alertmanager nor the record: nothing to serve, and Alertmanager's failure came first.
          if (!upstream) throw error;
          ctx.logger.error({ err: error }, 'alerts: the webhook record could not be read either');
          throw upstream;
        }
        const { staleBefore, recent, firing, acks } = listed;
        const active = activeAm ? activeAm.map((a) => fromAlertmanager(a, acks.get(a.fingerprint))) : (firing ?? []).map((a) => fromDatabase(a, acks.get(a.fingerprint), staleBefore));
        return {
          from: range.from.toISOString(),
          to: range.to.toISOString(),
          active_source: activeAm ? ('alertmanager' as const) : ('database' as const),
          active,
          recent: recent.alerts.map((a) => fromDatabase(a, acks.get(a.fingerprint), staleBefore)),
          truncated: recent.truncated,
          reconciliation: activeAm
            ? { method: 'alertmanager' as const, resolved, stale_after_s: null }
            : { method: 'staleness' as const, resolved: 0, stale_after_s: staleAfter },
          warning: upstream
            ? `Alertmanager did not answer (${upstream.message}): active alerts are from the webhook record instead, where a firing alert not delivered again for ${staleAfter} s reads stale; nothing was reconciled, and acknowledging needs Alertmanager.`
            : null,
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/ws/alerts/{id}/acknowledge',
      tag: 'alerts',
      summary: 'Acknowledge a firing alert: records who and when, and silences it in Alertmanager',
      description:
        'Only an alert Alertmanager has now (firing, silenced or inhibited) can be acknowledged: one it no longer has answers 409 `alert_not_active` (a silence on its labels would mute its next firing), one never seen 404. Acknowledging again while the silence of the latest acknowledgement holds updates that silence (same `silence_id`, the new end, `acknowledged_by` and comment) instead of adding a second one. Without ALERTMANAGER_URL, 503 `alertmanager_not_configured` and nothing is recorded.',
      access: 'admin',
      // No regex flags: the OpenAPI pattern carries the source only (a /i leaked into it as text).
      // Alertmanager writes fingerprints in lowercase and they are compared as text: an id in
      // uppercase is the same fingerprint, lowercased here (it never matched before).
      params: z.object({
        id: z
          .string()
          .regex(/^[0-9a-fA-F]{1,64}$/)
          .transform((id) => id.toLowerCase())
          .meta({ description: 'Alert fingerprint (hexadecimal, either case: it is lowercased as Alertmanager writes it)' }),
      }),
      body: z.strictObject({
        acknowledged_by: z.string().trim().min(1).max(128),
        comment: z.string().max(1000).optional(),
        duration_minutes: z.int().min(1).max(7 * 24 * 60).default(60).meta({ description: 'How long the silence lasts' }),
      }),
      status: 201,
      response: acknowledgeResponseSchema,
      errors: [404, 409, 502, 503],
      async handler({ params, body }) {
        if (!ctx.alertmanager) throw new ApiError(503, 'alertmanager_not_configured', 'acknowledging creates an Alertmanager silence: set ALERTMANAGER_URL');
        const live = (await ctx.alertmanager.alerts()).find((a) => a.fingerprint === params.id);
        if (!live) {
          const stored = await findAlertByFingerprint(ctx.database.pool, params.id);
          if (!stored) throw new ApiError(404, 'alert_not_found', `no alert with id ${params.id}`);
          throw new ApiError(
            409,
            'alert_not_active',
            `${stored.alertname} (${params.id}) is not firing in Alertmanager: there is nothing to acknowledge, and a silence on its labels would mute its next firing`,
            { alertname: stored.alertname, starts_at: stored.starts_at.toISOString(), ends_at: stored.ends_at?.toISOString() ?? null },
          );
        }
        const labels = live.labels;
        const startsAt = new Date();
        const endsAt = new Date(startsAt.getTime() + body.duration_minutes * 60_000);
        // Acknowledged again while the earlier acknowledgement's silence holds: that silence is updated (its
        // end, who, why), not joined by a second one that would outlive or undercut it unseen.
        const replaced = await heldSilence(ctx, params.id, startsAt);
        const silenceId = await ctx.alertmanager.createSilence({
          // Alertmanager keeps the id only with the same matchers and start as it holds them.
          ...(replaced ? { id: replaced.id, matchers: replaced.matchers, startsAt: new Date(replaced.startsAt) } : { matchers: Object.entries(labels).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })), startsAt }),
          endsAt,
          createdBy: body.acknowledged_by,
          comment: body.comment ?? `acknowledged in socketscope by ${body.acknowledged_by}`,
        });
        let ack: Acknowledgement;
        try {
          ack = await insertAcknowledgement(ctx.database.pool, {
            fingerprint: params.id,
            alertname: labels.alertname ?? 'unknown',
            acknowledged_by: body.acknowledged_by,
            comment: body.comment ?? null,
            silence_id: silenceId,
            silence_ends_at: endsAt,
          });
        } catch (error) {
          const am = ctx.alertmanager;
          if (replaced && silenceId === replaced.id) {
            // The earlier acknowledgement's silence, updated in place: back to what that acknowledgement recorded.
            await am
              .createSilence({ id: replaced.id, matchers: replaced.matchers, startsAt: new Date(replaced.startsAt), endsAt: new Date(replaced.endsAt), createdBy: replaced.createdBy, comment: replaced.comment })
              .catch((restoreError: unknown) =>
                ctx.logger.error({ err: restoreError, silence_id: silenceId, fingerprint: params.id }, 'acknowledgement not recorded and the Alertmanager silence it updated could not be restored'),
              );
          } else {
            // Unrecorded, the silence would be orphaned and a retry would add a second one: expire it first.
            await am.expireSilence(silenceId).catch((expireError: unknown) =>
              ctx.logger.error({ err: expireError, silence_id: silenceId, fingerprint: params.id }, 'acknowledgement not recorded and its Alertmanager silence could not be expired'),
            );
          }
          throw error;
        }
        return { alert: fromAlertmanager(live, ack), acknowledgement: ackJson(ack) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/ws/alerts/webhook',
      tag: 'alerts',
      summary: 'Alertmanager webhook receiver: records alerts as they fire and resolve',
      access: 'webhook',
      body: webhookBodySchema,
      status: 200,
      response: z.object({ received: z.int() }),
      async handler({ body }) {
        const received = await upsertAlerts(
          ctx.database.pool,
          body.alerts.map((a) => ({
            fingerprint: a.fingerprint,
            status: a.status,
            labels: a.labels,
            annotations: a.annotations,
            starts_at: new Date(a.startsAt),
            ends_at: a.endsAt && !isZeroTime(a.endsAt) ? new Date(a.endsAt) : null,
            generator_url: a.generatorURL ?? null,
          })),
        );
        return { received };
      },
    }),
  ];
}
