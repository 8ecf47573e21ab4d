/** The nightly schedule: what the running schedulers obey, pause and resume, a run now, backfill. */
import {
  backfillSchedule,
  pauseSchedule,
  resumeSchedule,
  scheduleStatus,
  triggerNightly,
} from '../../services/schedule.js';
import type { RegisterRoutes } from '../context.js';
import { errorResponses } from '../schemas/common.js';
import {
  backfillBody,
  backfillResponse,
  pauseBody,
  scheduleWire,
  triggerResponse,
} from '../schemas/schedule.js';

const tags = ['schedule'];

export const registerScheduleRoutes: RegisterRoutes = (server, { app }) => {
  server.get(
    '/schedule',
    {
      schema: {
        tags,
        summary: 'The schedule the running schedulers obey, paused or not, the next 5 runs, the last run',
        description:
          'cron, timezone and catch-up come from the running schedulers (they write them to Redis); with none running, from the API’s own configuration, and `warnings` says so.',
        response: { 200: scheduleWire },
      },
    },
    async () => scheduleStatus(app),
  );

  server.post(
    '/schedule/pause',
    {
      preValidation: async (request) => {
        if (request.body === null || request.body === undefined) request.body = {};
      },
      schema: {
        tags,
        summary: 'Stop enqueueing nightly runs until resumed',
        description:
          'Slots that pass while paused are never run. Pausing a paused schedule keeps the first pause (its time, actor and note).',
        body: pauseBody,
        response: { 200: scheduleWire },
      },
    },
    async (request) => pauseSchedule(app, { actor: request.actor, note: request.body?.note }),
  );

  server.post(
    '/schedule/resume',
    {
      schema: {
        tags,
        summary: 'Enqueue nightly runs again, from the next slot on',
        response: { 200: scheduleWire },
      },
    },
    async (request) => resumeSchedule(app, { actor: request.actor }),
  );

  server.post(
    '/schedule/trigger',
    {
      schema: {
        tags,
        summary: "Run the nightly rebalancing now, as an operator's run (whatever the pause)",
        description: 'Follow it with GET /runs/{run_id}.',
        response: { 202: triggerResponse },
      },
    },
    async (request, reply) => {
      const queued = await triggerNightly(app, { actor: request.actor });
      reply.code(202);
      return queued;
    },
  );

  server.post(
    '/schedule/backfill',
    {
      schema: {
        tags,
        summary: 'Run each slot from `from` to `to` that has not run',
        description:
          'Both included, at most 366 slots, `to` not in the future. Slots already run, claimed by a scheduler or another backfill, or skipped by a pause are left alone (each with its reason); the others are claimed as the schedulers claim them and queued with the slot’s run id. 400 naming the problem for a bad range.',
        body: backfillBody,
        response: { 200: backfillResponse, 400: errorResponses[400] },
      },
    },
    async (request) =>
      backfillSchedule(app, {
        from: request.body.from,
        to: request.body.to,
        dryRun: request.body.dry_run,
        actor: request.actor,
      }),
  );
};
