import type { OrderDirection, TaskOrderField, TaskPriority, TaskWhereInput } from '../../gql/graphql';
import type { TaskDraft } from './TaskForm';
import { fromDateInput } from './format';

export type StatusFilter = 'all' | 'open' | 'done';

export interface Filters {
  text: string;
  status: StatusFilter;
  priority: TaskPriority | '';
}

export const sorts = {
  newest: { label: 'Newest first', field: 'CREATED_AT', direction: 'DESC' },
  oldest: { label: 'Oldest first', field: 'CREATED_AT', direction: 'ASC' },
  due: { label: 'Due date', field: 'DUE_AT', direction: 'ASC' },
  priority: { label: 'Priority', field: 'PRIORITY', direction: 'DESC' },
  title: { label: 'Title A–Z', field: 'TITLE', direction: 'ASC' },
  updated: { label: 'Recently updated', field: 'UPDATED_AT', direction: 'DESC' },
} satisfies Record<string, { label: string; field: TaskOrderField; direction: OrderDirection }>;

export type SortKey = keyof typeof sorts;

/** buildWhere turns the board's filters into entgql's TaskWhereInput. */
export function buildWhere(f: Filters): TaskWhereInput | undefined {
  const where: TaskWhereInput = {};
  if (f.status !== 'all') where.done = f.status === 'done';
  if (f.priority) where.priority = f.priority;
  const text = f.text.trim();
  if (text) where.or = [{ titleContainsFold: text }, { descriptionContainsFold: text }];
  return Object.keys(where).length > 0 ? where : undefined;
}

/** createInput maps a draft to CreateTaskInput, leaving out empty optional fields. */
export function createInput(d: TaskDraft) {
  const due = fromDateInput(d.due);
  return {
    title: d.title,
    priority: d.priority,
    ...(d.description ? { description: d.description } : {}),
    ...(due ? { dueAt: due } : {}),
  };
}

/** updateInput maps a draft to UpdateTaskInput; emptied optional fields are cleared. */
export function updateInput(d: TaskDraft) {
  const due = fromDateInput(d.due);
  return {
    title: d.title,
    priority: d.priority,
    ...(d.description ? { description: d.description } : { clearDescription: true }),
    ...(due ? { dueAt: due } : { clearDueAt: true }),
  };
}
