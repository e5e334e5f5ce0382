import { Dialog } from '../../components/Dialog';
import type { TaskDraft } from './TaskForm';
import type { Task } from './TaskList';
import { formatDate, formatDateTime, priorityLabel, fromDateInput } from './format';

interface Props {
  mine: TaskDraft;
  /** theirs is the saved task as it is now, or null when it was deleted. */
  theirs: Task | null;
  onKeepMine: () => void;
  onUseTheirs: () => void;
  onClose: () => void;
}

/**
 * ConflictDialog appears when someone saved the task after this user started
 * editing it: it shows both versions side by side and lets the user choose.
 */
export function ConflictDialog({ mine, theirs, onKeepMine, onUseTheirs, onClose }: Props) {
  if (!theirs) {
    return (
      <Dialog title="This task was deleted" onClose={onClose} actions={<button type="button" className="primary" onClick={onClose}>OK</button>}>
        <p>Someone deleted this task while you were editing it, so your changes could not be saved.</p>
      </Dialog>
    );
  }
  const rows: [string, string, string][] = [
    ['Title', mine.title, theirs.title],
    ['Description', mine.description, theirs.description ?? ''],
    ['Priority', priorityLabel[mine.priority], priorityLabel[theirs.priority]],
    ['Due', formatDate(fromDateInput(mine.due)), formatDate(theirs.dueAt)],
  ];
  return (
    <Dialog
      title="This task changed while you were editing"
      onClose={onClose}
      actions={
        <>
          <button type="button" className="primary" onClick={onKeepMine}>
            Save my version
          </button>
          <button type="button" className="secondary" onClick={onUseTheirs}>
            Keep the newer version
          </button>
        </>
      }
    >
      <p>
        Version {theirs.version} was saved {formatDateTime(theirs.updatedAt)}
        {` (task owned by ${theirs.owner.name || 'unnamed'})`}. Choose which version to keep.
      </p>
      <table className="conflict">
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Your edit</th>
            <th scope="col">Newer version</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([field, a, b]) => (
            <tr key={field} className={a === b ? undefined : 'differs'}>
              <th scope="row">{field}</th>
              <td>{a || '—'}</td>
              <td>{b || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}
