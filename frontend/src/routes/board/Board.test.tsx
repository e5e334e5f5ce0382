import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { fakeServer, gqlError, member, viewerRole, Wrapper } from '../../test/fakeServer';
import type { Handler } from '../../test/fakeServer';
import Board, { UNDO_MS } from './Board';
import { connection, task } from './fixtures';

const never = () => new Promise(() => undefined);

function setup(handlers: Record<string, Handler>, viewer = member) {
  const server = fakeServer({ TaskChanged: never, ...handlers });
  const user = userEvent.setup({ advanceTimers: (ms) => (vi.isFakeTimers() ? vi.advanceTimersByTime(ms) : undefined) });
  render(
    <Wrapper client={server.client} viewer={viewer}>
      <Board />
    </Wrapper>,
  );
  return { ...server, user };
}

describe('Board', () => {
  it('lists tasks, and sends filters and sort as where/orderBy', async () => {
    const s = setup({ BoardTasks: () => connection([task({ id: '1', title: 'Plan sprint' })]) });
    expect(await screen.findByText('Plan sprint')).toBeInTheDocument();
    expect(screen.getByText('1 task')).toBeInTheDocument();
    expect(s.named('BoardTasks')[0]?.variables).toMatchObject({ first: 20, orderBy: { field: 'CREATED_AT', direction: 'DESC' } });

    const filters = within(screen.getByRole('search', { name: 'Filter tasks' }));
    await s.user.selectOptions(filters.getByLabelText('Status'), 'open');
    await s.user.selectOptions(filters.getByLabelText('Priority'), 'HIGH');
    await s.user.selectOptions(filters.getByLabelText('Sort by'), 'due');
    await s.user.type(filters.getByLabelText('Search'), 'report');
    await waitFor(() => {
      expect(s.named('BoardTasks').at(-1)?.variables).toMatchObject({
        where: { done: false, priority: 'HIGH', or: [{ titleContainsFold: 'report' }, { descriptionContainsFold: 'report' }] },
        orderBy: { field: 'DUE_AT', direction: 'ASC' },
      });
    });
  });

  it('shows the empty state and the server error message', async () => {
    setup({ BoardTasks: () => gqlError('database is down for maintenance', 'INTERNAL') });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load tasks');
    expect(alert).toHaveTextContent('database is down for maintenance');
  });

  it('shows an empty state when there are no tasks', async () => {
    setup({ BoardTasks: () => connection([]) });
    expect(await screen.findByText('No tasks yet. Add the first one above.')).toBeInTheDocument();
  });

  it('creates a task from the form', async () => {
    const s = setup({
      BoardTasks: () => connection([]),
      CreateTask: (v) => ({ createTask: task({ id: '9', title: (v.input as { title: string }).title }) }),
    });
    await screen.findByText(/No tasks yet/);
    const form = within(screen.getByRole('form', { name: 'New task' }));
    await s.user.type(form.getByLabelText('Title'), '  Ship it  ');
    await s.user.click(screen.getByRole('button', { name: 'Add task' }));
    await waitFor(() => {
      expect(s.named('CreateTask')).toHaveLength(1);
    });
    expect(s.named('CreateTask')[0]?.variables).toEqual({ input: { title: 'Ship it', priority: 'MEDIUM' } });
    await waitFor(() => {
      expect(form.getByLabelText('Title')).toHaveValue('');
    });
  });

  it('on a stale edit shows the newer version and can save mine over it', async () => {
    const mine = task({ id: '5', title: 'Old title', version: 2 });
    const newer = task({ id: '5', title: 'Their title', version: 3, updatedAt: '2026-11-25T12:00:00Z' });
    const s = setup({
      BoardTasks: () => connection([mine]),
      UpdateTask: (v) =>
        v.expectedVersion === 2 ? gqlError('task 5 changed since version 2', 'CONFLICT') : { updateTask: { ...newer, title: 'My title', version: 4 } },
      TaskLatest: () => ({ node: newer }),
    });
    await s.user.click(await screen.findByRole('button', { name: 'Edit Old title' }));
    const title = within(screen.getByRole('form', { name: 'Edit task Old title' })).getByLabelText('Title');
    await s.user.clear(title);
    await s.user.type(title, 'My title');
    await s.user.click(screen.getByRole('button', { name: 'Save' }));

    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByText('Their title')).toBeInTheDocument();
    expect(within(dialog).getByText(/Version 3 was saved/)).toBeInTheDocument();
    await s.user.click(within(dialog).getByRole('button', { name: 'Save my version' }));

    await waitFor(() => {
      expect(s.named('UpdateTask')).toHaveLength(2);
    });
    expect(s.named('UpdateTask')[1]?.variables).toMatchObject({ id: '5', expectedVersion: 3, input: { title: 'My title' } });
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('deletes after the undo window, and not at all when undone', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const s = setup({
        BoardTasks: () => connection([task({ id: '1', title: 'Keep me' }), task({ id: '2', title: 'Drop me' })]),
        DeleteTask: (v) => ({ deleteTask: v.id }),
      });
      await s.user.click(await screen.findByRole('button', { name: 'Delete Keep me' }));
      expect(screen.queryByText('Keep me', { selector: '.title-text' })).not.toBeInTheDocument();
      await s.user.click(screen.getByRole('button', { name: 'Undo' }));
      expect(screen.getByText('Keep me', { selector: '.title-text' })).toBeInTheDocument();

      await s.user.click(screen.getByRole('button', { name: 'Delete Drop me' }));
      expect(s.named('DeleteTask')).toHaveLength(0);
      await act(async () => {
        await vi.advanceTimersByTimeAsync(UNDO_MS + 10);
      });
      expect(s.named('DeleteTask').map((d) => d.variables)).toEqual([{ id: '2' }]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives viewers a read-only board', async () => {
    setup({ BoardTasks: () => connection([task({ id: '1', title: 'Read only' })]) }, viewerRole);
    await screen.findByText('Read only');
    expect(screen.queryByRole('button', { name: 'Add task' })).not.toBeInTheDocument();
    expect(screen.getByText(/Your role is viewer/)).toBeInTheDocument();
  });
});
