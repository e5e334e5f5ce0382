import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { useClient, useMutation, useQuery, useSubscription } from 'urql';
import type { CombinedError } from 'urql';
import { getFragmentData, graphql } from '../../gql';
import type { TaskPriority } from '../../gql/graphql';
import { ErrorMessage, Empty, Loading } from '../../components/Status';
import { hasCode } from '../../lib/errors';
import { useDebounced } from '../../lib/useDebounced';
import { canEdit, useViewer } from '../../lib/viewer';
import { ConflictDialog } from './ConflictDialog';
import { TaskFieldsFragment } from './fragments';
import { priorities, priorityLabel } from './format';
import { buildWhere, createInput, sorts, updateInput } from './query';
import type { SortKey, StatusFilter } from './query';
import { TaskForm, emptyDraft } from './TaskForm';
import type { TaskDraft } from './TaskForm';
import { TaskList } from './TaskList';
import type { Task } from './TaskList';

export const PAGE_SIZE = 20;
/** UNDO_MS is how long a deleted task can be restored before it is really deleted. */
export const UNDO_MS = 6000;

const BoardTasksQuery = graphql(`
  query BoardTasks($first: Int, $after: Cursor, $last: Int, $before: Cursor, $orderBy: TaskOrder, $where: TaskWhereInput) {
    tasks(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, where: $where) {
      totalCount
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
      edges {
        cursor
        node {
          id
          ...TaskFields
        }
      }
    }
  }
`);

const TaskLatestQuery = graphql(`
  query TaskLatest($id: ID!) {
    node(id: $id) {
      __typename
      ... on Task {
        id
        ...TaskFields
      }
    }
  }
`);

const CreateTaskMutation = graphql(`
  mutation CreateTask($input: CreateTaskInput!) {
    createTask(input: $input) {
      id
      ...TaskFields
    }
  }
`);

const UpdateTaskMutation = graphql(`
  mutation UpdateTask($id: ID!, $input: UpdateTaskInput!, $expectedVersion: Int) {
    updateTask(id: $id, input: $input, expectedVersion: $expectedVersion) {
      id
      ...TaskFields
    }
  }
`);

const SetTaskDoneMutation = graphql(`
  mutation SetTaskDone($id: ID!, $done: Boolean!) {
    setTaskDone(id: $id, done: $done) {
      id
      ...TaskFields
    }
  }
`);

const DeleteTaskMutation = graphql(`
  mutation DeleteTask($id: ID!) {
    deleteTask(id: $id)
  }
`);

const TaskChangedSubscription = graphql(`
  subscription TaskChanged {
    taskChanged {
      kind
      id
    }
  }
`);

// deleteTask returns only an ID, so urql's document cache cannot tell which
// queries it affects: name the typename explicitly.
const taskContext = { additionalTypenames: ['Task'] };

interface Conflict {
  task: Task;
  mine: TaskDraft;
  theirs: Task | null;
}

interface PendingDelete {
  id: string;
  title: string;
}

export default function Board() {
  const viewer = useViewer();
  const readOnly = !canEdit(viewer);
  const client = useClient();
  const ids = useId();

  const [text, setText] = useState('');
  const search = useDebounced(text, 300);
  const [status, setStatus] = useState<StatusFilter>('all');
  const [priority, setPriority] = useState<TaskPriority | ''>('');
  const [sort, setSort] = useState<SortKey>('newest');
  // page remembers the filters it belongs to: a new filter or order starts
  // again from the first page.
  const [page, setPage] = useState<{ after?: string; before?: string; key: string }>({ key: '' });

  const [editingId, setEditingId] = useState<string | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  const [actionError, setActionError] = useState<CombinedError | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [pending, setPending] = useState<PendingDelete[]>([]);
  const [announcement, setAnnouncement] = useState('');

  const filterKey = JSON.stringify([search, status, priority, sort]);
  const pos = page.key === filterKey ? page : { key: filterKey };

  const variables = useMemo(() => {
    const order = sorts[sort];
    const base = { orderBy: { field: order.field, direction: order.direction }, where: buildWhere({ text: search, status, priority }) };
    return pos.before ? { ...base, last: PAGE_SIZE, before: pos.before } : { ...base, first: PAGE_SIZE, after: pos.after };
  }, [search, status, priority, sort, pos.before, pos.after]);

  const [{ data, fetching, error }, reexecute] = useQuery({ query: BoardTasksQuery, variables, context: useMemo(() => taskContext, []) });
  const refetch = useCallback(() => {
    reexecute({ requestPolicy: 'network-only' });
  }, [reexecute]);

  // Live updates: any change by anyone refetches the current page, batched
  // so that a burst of events costs one request.
  const [live] = useSubscription({ query: TaskChangedSubscription, pause: !viewer });
  const refetchTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => {
    if (!live.data) return;
    clearTimeout(refetchTimer.current);
    refetchTimer.current = setTimeout(refetch, 200);
  }, [live.data, refetch]);
  useEffect(() => () => {
    clearTimeout(refetchTimer.current);
  }, []);

  const [create, createTask] = useMutation(CreateTaskMutation);
  const [, updateTask] = useMutation(UpdateTaskMutation);
  const [, setTaskDone] = useMutation(SetTaskDoneMutation);
  const [, deleteTask] = useMutation(DeleteTaskMutation);

  const onCreate = async (d: TaskDraft) => {
    setActionError(null);
    const r = await createTask({ input: createInput(d) }, taskContext);
    if (r.error) {
      setActionError(r.error);
      return false;
    }
    setAnnouncement(`Created “${d.title}”.`);
    return true;
  };

  const save = async (task: Task, draft: TaskDraft): Promise<boolean> => {
    setActionError(null);
    setBusyId(task.id);
    const r = await updateTask({ id: task.id, input: updateInput(draft), expectedVersion: task.version }, taskContext);
    setBusyId(null);
    if (r.error) {
      if (hasCode(r.error, 'CONFLICT')) {
        const latest = await client.query(TaskLatestQuery, { id: task.id }, { requestPolicy: 'network-only' }).toPromise();
        const node = latest.data?.node;
        const theirs = node?.__typename === 'Task' ? getFragmentData(TaskFieldsFragment, node) : null;
        setConflict({ task, mine: draft, theirs });
      } else {
        setActionError(r.error);
      }
      return false;
    }
    setEditingId(null);
    setAnnouncement(`Saved “${draft.title}”.`);
    return true;
  };

  const toggle = async (task: Task, done: boolean) => {
    setActionError(null);
    setBusyId(task.id);
    const r = await setTaskDone({ id: task.id, done }, taskContext);
    setBusyId(null);
    if (r.error) setActionError(r.error);
    else setAnnouncement(done ? `Completed “${task.title}”.` : `Reopened “${task.title}”.`);
  };

  // Delete with undo: the task disappears at once, and is deleted on the
  // server only when the undo window has passed (or the page is left).
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const deleteRef = useRef(deleteTask);
  useEffect(() => {
    deleteRef.current = deleteTask;
  }, [deleteTask]);
  const commitDelete = useCallback(async (id: string) => {
    timers.current.delete(id);
    const r = await deleteRef.current({ id }, taskContext);
    setPending((p) => p.filter((x) => x.id !== id));
    if (r.error && !hasCode(r.error, 'NOT_FOUND')) setActionError(r.error);
  }, []);
  const remove = (task: Task) => {
    setActionError(null);
    setPending((p) => [...p, { id: task.id, title: task.title }]);
    timers.current.set(
      task.id,
      setTimeout(() => void commitDelete(task.id), UNDO_MS),
    );
  };
  const undo = (id: string) => {
    clearTimeout(timers.current.get(id));
    timers.current.delete(id);
    setPending((p) => p.filter((x) => x.id !== id));
    setAnnouncement('Task restored.');
  };
  useEffect(() => {
    const t = timers.current;
    return () => {
      for (const [id, timer] of t) {
        clearTimeout(timer);
        void deleteRef.current({ id }, taskContext);
      }
      t.clear();
    };
  }, []);

  const hidden = new Set(pending.map((p) => p.id));
  const connection = data?.tasks;
  const edges = (connection?.edges ?? []).flatMap((e) => (e?.node && !hidden.has(e.node.id) ? [e.node] : []));
  const filtered = !!(search.trim() || status !== 'all' || priority);

  return (
    <section className="page board">
      <div className="page-head">
        <h1>Tasks</h1>
        <LiveBadge error={!!live.error} />
      </div>

      {!readOnly && (
        <section aria-labelledby={`${ids}-new`} className="card">
          <h2 id={`${ids}-new`} className="visually-hidden">New task</h2>
          <TaskForm initial={emptyDraft} label="New task" submitLabel="Add task" busy={create.fetching} onSubmit={onCreate} compact />
        </section>
      )}
      {readOnly && <p className="note">Your role is viewer: you can read tasks but not change them.</p>}

      <form className="filters" role="search" aria-label="Filter tasks" onSubmit={(e) => { e.preventDefault(); }}>
        <div className="field grow">
          <label htmlFor={`${ids}-q`}>Search</label>
          <input id={`${ids}-q`} type="search" value={text} placeholder="Title or description" onChange={(e) => { setText(e.target.value); }} />
        </div>
        <div className="field">
          <label htmlFor={`${ids}-status`}>Status</label>
          <select id={`${ids}-status`} value={status} onChange={(e) => { setStatus(e.target.value as StatusFilter); }}>
            <option value="all">All</option>
            <option value="open">Open</option>
            <option value="done">Done</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-priority`}>Priority</label>
          <select id={`${ids}-priority`} value={priority} onChange={(e) => { setPriority(e.target.value as TaskPriority | ''); }}>
            <option value="">Any</option>
            {priorities.map((p) => (
              <option key={p} value={p}>{priorityLabel[p]}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-sort`}>Sort by</label>
          <select id={`${ids}-sort`} value={sort} onChange={(e) => { setSort(e.target.value as SortKey); }}>
            {Object.entries(sorts).map(([k, s]) => (
              <option key={k} value={k}>{s.label}</option>
            ))}
          </select>
        </div>
      </form>

      {actionError && <ErrorMessage error={actionError} title="That did not work" />}

      {error && !connection ? (
        <ErrorMessage error={error} title="Could not load tasks" />
      ) : !connection ? (
        <Loading label="Loading tasks…" />
      ) : edges.length === 0 ? (
        <Empty>{filtered ? 'No tasks match these filters.' : readOnly ? 'There are no tasks yet.' : 'No tasks yet. Add the first one above.'}</Empty>
      ) : (
        <TaskList
          tasks={edges}
          editingId={editingId}
          readOnly={readOnly}
          busyId={busyId}
          onEdit={setEditingId}
          onSave={save}
          onToggle={(t, d) => void toggle(t, d)}
          onDelete={remove}
        />
      )}

      {connection && (
        <nav className="pager" aria-label="Pages">
          <button
            type="button"
            className="secondary"
            disabled={!connection.pageInfo.hasPreviousPage || fetching}
            onClick={() => { setPage({ key: filterKey, before: connection.pageInfo.startCursor ?? undefined }); }}
          >
            Previous
          </button>
          <span>{connection.totalCount} {connection.totalCount === 1 ? 'task' : 'tasks'}</span>
          <button
            type="button"
            className="secondary"
            disabled={!connection.pageInfo.hasNextPage || fetching}
            onClick={() => { setPage({ key: filterKey, after: connection.pageInfo.endCursor ?? undefined }); }}
          >
            Next
          </button>
        </nav>
      )}

      <div className="toasts" role="status" aria-live="polite">
        {pending.map((p) => (
          <div key={p.id} className="toast">
            <span>Deleted “{p.title}”.</span>
            <button type="button" className="link" onClick={() => { undo(p.id); }}>
              Undo
            </button>
          </div>
        ))}
      </div>
      <p className="visually-hidden" aria-live="polite">{announcement}</p>

      {conflict && (
        <ConflictDialog
          mine={conflict.mine}
          theirs={conflict.theirs}
          onClose={() => { setConflict(null); }}
          onKeepMine={() => {
            const theirs = conflict.theirs;
            setConflict(null);
            if (theirs) void save(theirs, conflict.mine);
          }}
          onUseTheirs={() => {
            setConflict(null);
            setEditingId(null);
            refetch();
          }}
        />
      )}
    </section>
  );
}

function LiveBadge({ error }: { error: boolean }) {
  return error ? (
    <span className="live off" title="Live updates are unavailable; reload to see changes by others.">Offline</span>
  ) : (
    <span className="live" title="Changes by others appear here as they happen."><span aria-hidden="true">●</span> Live</span>
  );
}
