import type { TaskPriority } from '../../gql/graphql';

export const priorities: TaskPriority[] = ['HIGH', 'MEDIUM', 'LOW'];

export const priorityLabel: Record<TaskPriority, string> = { HIGH: 'High', MEDIUM: 'Medium', LOW: 'Low' };

/** dateInputValue turns an RFC 3339 time into the local yyyy-mm-dd a date input shows. */
export function dateInputValue(t: string | null | undefined): string {
  if (!t) return '';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** fromDateInput turns a date input's yyyy-mm-dd into the end of that local day, or null. */
export function fromDateInput(v: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59).toISOString();
}

export function formatDate(t: string | null | undefined): string {
  if (!t) return '';
  return new Date(t).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export function formatDateTime(t: string | null | undefined): string {
  if (!t) return '';
  return new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function isOverdue(dueAt: string | null | undefined, done: boolean, now = new Date()): boolean {
  return !!dueAt && !done && new Date(dueAt).getTime() < now.getTime();
}
