/** The overview's schedule panel, read through the schedule service (what the schedulers obey). */
import { scheduleStatus } from '../../services/schedule.js';
import type { ConsoleContext } from '../context.js';
import { messageOf } from '../request-context.js';
import type { SchedulePanel } from '../views/schedule.js';

export async function schedulePanelData(cx: ConsoleContext): Promise<SchedulePanel> {
  try {
    return { kind: 'status', status: await scheduleStatus(cx.api.app) };
  } catch (err) {
    // The rest of the overview is still worth showing.
    return { kind: 'unavailable', message: `The schedule cannot be read now: ${messageOf(err)}` };
  }
}
