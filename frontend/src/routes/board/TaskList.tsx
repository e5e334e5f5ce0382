import { getFragmentData } from '../../gql';
import type { FragmentType } from '../../gql';
import type { TaskFieldsFragment as TaskFields } from '../../gql/graphql';
import { TaskFieldsFragment } from './fragments';
import { formatDate, isOverdue, priorityLabel, dateInputValue } from './format';
import { TaskForm } from './TaskForm';
import type { TaskDraft } from './TaskForm';

export type Task = TaskFields;

export function draftOf(t: Task): TaskDraft {
  return { title: t.title, description: t.description ?? '', priority: t.priority, due: dateInputValue(t.dueAt) };
}

interface Props {
  tasks: FragmentType<typeof TaskFieldsFragment>[];
  editingId: string | null;
  readOnly: boolean;
  busyId?: string | null;
  onEdit: (id: string | null) => void;
  onSave: (task: Task, draft: TaskDraft) => Promise<boolean>;
  onToggle: (task: Task, done: boolean) => void;
  onDelete: (task: Task) => void;
}

export function TaskList({ tasks, ...rest }: Props) {
  return (
    <ul className="task-list" aria-label="Tasks">
      {tasks.map((t) => {
        const task = getFragmentData(TaskFieldsFragment, t);
        return <TaskRow key={task.id} task={task} {...rest} />;
      })}
    </ul>
  );
}

function TaskRow({ task, editingId, readOnly, busyId, onEdit, onSave, onToggle, onDelete }: Omit<Props, 'tasks'> & { task: Task }) {
  if (editingId === task.id) {
    return (
      <li className="task editing">
        <TaskForm
          initial={draftOf(task)}
          label={`Edit task ${task.title}`}
          submitLabel="Save"
          busy={busyId === task.id}
          onSubmit={(d) => onSave(task, d)}
          onCancel={() => {
            onEdit(null);
          }}
        />
      </li>
    );
  }
  const overdue = isOverdue(task.dueAt, task.done);
  return (
    <li className={task.done ? 'task done' : 'task'}>
      <input
        type="checkbox"
        className="task-check"
        checked={task.done}
        disabled={readOnly || busyId === task.id}
        onChange={(e) => {
          onToggle(task, e.target.checked);
        }}
        aria-label={`Done: ${task.title}`}
      />
      <div className="task-main">
        <div className="task-title">
          <span className="title-text">{task.title}</span>
          <span className={`badge priority-${task.priority.toLowerCase()}`}>{priorityLabel[task.priority]}</span>
          {task.dueAt && (
            <span className={overdue ? 'due overdue' : 'due'}>
              {overdue ? 'Overdue: ' : 'Due '}
              <time dateTime={task.dueAt}>{formatDate(task.dueAt)}</time>
            </span>
          )}
        </div>
        {task.description && <p className="task-description">{task.description}</p>}
        <p className="task-meta">Owner: {task.owner.name || 'unnamed'}</p>
      </div>
      {!readOnly && (
        <div className="task-actions">
          <button
            type="button"
            className="secondary small"
            onClick={() => {
              onEdit(task.id);
            }}
            aria-label={`Edit ${task.title}`}
          >
            Edit
          </button>
          <button
            type="button"
            className="danger small"
            onClick={() => {
              onDelete(task);
            }}
            aria-label={`Delete ${task.title}`}
          >
            Delete
          </button>
        </div>
      )}
    </li>
  );
}
