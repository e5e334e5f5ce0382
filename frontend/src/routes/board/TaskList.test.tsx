import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { FragmentType } from '../../gql';
import type { TaskFieldsFragment } from './fragments';
import { TaskList } from './TaskList';
import { task } from './fixtures';

const asFragments = (ts: ReturnType<typeof task>[]) => ts as unknown as FragmentType<typeof TaskFieldsFragment>[];

function renderList(props: Partial<Parameters<typeof TaskList>[0]> = {}) {
  const handlers = { onEdit: vi.fn(), onSave: vi.fn(() => Promise.resolve(true)), onToggle: vi.fn(), onDelete: vi.fn() };
  const tasks = [
    task({ id: '1', title: 'Write report', priority: 'HIGH', description: 'Quarterly numbers' }),
    task({ id: '2', title: 'Water plants', done: true, priority: 'LOW' }),
    task({ id: '3', title: 'File taxes', dueAt: '2020-01-01T12:00:00Z' }),
  ];
  render(<TaskList tasks={asFragments(tasks)} editingId={null} readOnly={false} {...handlers} {...props} />);
  return handlers;
}

describe('TaskList', () => {
  it('renders each task with its title, priority, description and state', () => {
    renderList();
    const [first, , third, ...rest] = screen.getAllByRole('listitem').map((li) => within(li));
    if (!first || !third) throw new Error('got fewer than 3 list items, want 3');
    expect(rest).toHaveLength(0);
    expect(first.getByText('Write report')).toBeInTheDocument();
    expect(first.getByText('High')).toBeInTheDocument();
    expect(first.getByText('Quarterly numbers')).toBeInTheDocument();
    expect(screen.getByRole('checkbox', { name: 'Done: Water plants' })).toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'Done: Write report' })).not.toBeChecked();
    expect(third.getByText(/Overdue/)).toBeInTheDocument();
  });

  it('calls back with the task when completed, edited or deleted', async () => {
    const user = userEvent.setup();
    const h = renderList();
    await user.click(screen.getByRole('checkbox', { name: 'Done: Write report' }));
    expect(h.onToggle).toHaveBeenCalledWith(expect.objectContaining({ id: '1' }), true);
    await user.click(screen.getByRole('button', { name: 'Edit Water plants' }));
    expect(h.onEdit).toHaveBeenCalledWith('2');
    await user.click(screen.getByRole('button', { name: 'Delete File taxes' }));
    expect(h.onDelete).toHaveBeenCalledWith(expect.objectContaining({ id: '3', title: 'File taxes' }));
  });

  it('hides the edit controls for read-only users', () => {
    renderList({ readOnly: true });
    expect(screen.queryByRole('button', { name: /Edit|Delete/ })).not.toBeInTheDocument();
    expect(screen.getByRole('checkbox', { name: 'Done: Write report' })).toBeDisabled();
  });

  it('edits inline and saves the changed fields', async () => {
    const user = userEvent.setup();
    const h = renderList({ editingId: '1' });
    const title = screen.getByLabelText('Title');
    expect(title).toHaveValue('Write report');
    await user.clear(title);
    await user.type(title, 'Write the report');
    await user.selectOptions(screen.getByLabelText('Priority'), 'LOW');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(h.onSave).toHaveBeenCalledWith(expect.objectContaining({ id: '1' }), {
      title: 'Write the report',
      description: 'Quarterly numbers',
      priority: 'LOW',
      due: '',
    });
  });

  it('cancels an inline edit with Escape', async () => {
    const user = userEvent.setup();
    const h = renderList({ editingId: '1' });
    await user.type(screen.getByLabelText('Title'), '{Escape}');
    expect(h.onEdit).toHaveBeenCalledWith(null);
  });
});
