import type { TaskFieldsFragment } from '../../gql/graphql';

// __typename is what urql's cache keys on; the generated types leave it out.
export function task(over: Partial<TaskFieldsFragment> & { id: string; title: string }): TaskFieldsFragment & { __typename: 'Task' } {
  return {
    __typename: 'Task',
    description: null,
    done: false,
    priority: 'MEDIUM',
    dueAt: null,
    createdAt: '2026-11-20T10:00:00Z',
    updatedAt: '2026-11-20T10:00:00Z',
    version: 1,
    owner: { id: '1', name: 'Ada' },
    ...over,
  };
}

export function connection(tasks: TaskFieldsFragment[], pageInfo: Partial<{ hasNextPage: boolean; hasPreviousPage: boolean }> = {}) {
  return {
    tasks: {
      __typename: 'TaskConnection',
      totalCount: tasks.length,
      pageInfo: {
        __typename: 'PageInfo',
        hasNextPage: false,
        hasPreviousPage: false,
        startCursor: tasks.length ? `c-${tasks[0]?.id}` : null,
        endCursor: tasks.length ? `c-${tasks[tasks.length - 1]?.id}` : null,
        ...pageInfo,
      },
      edges: tasks.map((t) => ({ __typename: 'TaskEdge', cursor: `c-${t.id}`, node: t })),
    },
  };
}
