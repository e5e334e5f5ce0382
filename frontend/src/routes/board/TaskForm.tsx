import { useId, useState } from 'react';
import type { SyntheticEvent } from 'react';
import type { TaskPriority } from '../../gql/graphql';
import { priorities, priorityLabel } from './format';

export interface TaskDraft {
  title: string;
  description: string;
  priority: TaskPriority;
  /** due is a date input's yyyy-mm-dd, or '' for none. */
  due: string;
}

export const emptyDraft: TaskDraft = { title: '', description: '', priority: 'MEDIUM', due: '' };

interface Props {
  initial: TaskDraft;
  submitLabel: string;
  busy?: boolean;
  /** onSubmit resolves true when the draft was saved. */
  onSubmit: (d: TaskDraft) => Promise<boolean>;
  onCancel?: () => void;
  /** label names the form for assistive technology ("New task", "Edit task"). */
  label: string;
  /** compact lays the fields out on one line, for the create bar. */
  compact?: boolean;
}

/** TaskForm edits a task's fields; the board uses it to create and to edit inline. */
export function TaskForm({ initial, label, submitLabel, busy, onSubmit, onCancel, compact }: Props) {
  const [draft, setDraft] = useState(initial);
  const id = useId();
  const set = <K extends keyof TaskDraft>(k: K, v: TaskDraft[K]) => {
    setDraft((d) => ({ ...d, [k]: v }));
  };

  const submit = async (e: SyntheticEvent<HTMLFormElement>) => {
    e.preventDefault();
    const trimmed = { ...draft, title: draft.title.trim(), description: draft.description.trim() };
    if (!trimmed.title) return;
    // A create form clears itself after success so the next task can follow.
    const ok = await onSubmit(trimmed);
    if (ok && !onCancel) setDraft(initial);
  };

  return (
    <form
      className={compact ? 'task-form compact' : 'task-form'}
      aria-label={label}
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && onCancel) {
          e.preventDefault();
          onCancel();
        }
      }}
    >
      <div className="field grow">
        <label htmlFor={`${id}-title`}>Title</label>
        <input
          id={`${id}-title`}
          value={draft.title}
          onChange={(e) => {
            set('title', e.target.value);
          }}
          required
          maxLength={200}
          autoFocus={!!onCancel}
          placeholder={compact ? 'What needs doing?' : undefined}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-priority`}>Priority</label>
        <select
          id={`${id}-priority`}
          value={draft.priority}
          onChange={(e) => {
            set('priority', e.target.value as TaskPriority);
          }}
        >
          {priorities.map((p) => (
            <option key={p} value={p}>
              {priorityLabel[p]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-due`}>Due</label>
        <input
          id={`${id}-due`}
          type="date"
          value={draft.due}
          onChange={(e) => {
            set('due', e.target.value);
          }}
        />
      </div>
      <div className="field full">
        <label htmlFor={`${id}-description`}>Description</label>
        <textarea
          id={`${id}-description`}
          value={draft.description}
          rows={compact ? 1 : 3}
          maxLength={10000}
          onChange={(e) => {
            set('description', e.target.value);
          }}
        />
      </div>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy || !draft.title.trim()}>
          {submitLabel}
        </button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
