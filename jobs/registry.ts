import type { z } from 'zod';
import type { JobDefinition } from './job.js';
import { nightlyJob } from './nightly.js';
import { recalculateJob } from './recalculate.js';
import { recalculateBlockJob } from './recalculate-block.js';

export const JOB_NAMES = ['nightly', 'recalculate', 'recalculate-block'] as const;
export type JobName = (typeof JOB_NAMES)[number];

/** The catalog: a job name without a handler is a compile error. */
export const jobRegistry: { readonly [K in JobName]: JobDefinition<z.ZodType, unknown> } = {
  nightly: nightlyJob,
  recalculate: recalculateJob,
  'recalculate-block': recalculateBlockJob,
};

export function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}
