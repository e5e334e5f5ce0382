import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ConflictDialog } from './ConflictDialog';
import { task } from './fixtures';

const mine = { title: 'Buy milk', description: 'oat', priority: 'HIGH' as const, due: '' };
const theirs = task({ id: '7', title: 'Buy bread', description: 'oat', priority: 'HIGH', version: 4, updatedAt: '2026-11-25T09:30:00Z' });

describe('ConflictDialog', () => {
  it('shows my edit next to the newer saved version and marks the differences', () => {
    render(<ConflictDialog mine={mine} theirs={theirs} onKeepMine={vi.fn()} onUseTheirs={vi.fn()} onClose={vi.fn()} />);
    const dialog = screen.getByRole('dialog', { name: 'This task changed while you were editing' });
    expect(within(dialog).getByText(/Version 4 was saved/)).toBeInTheDocument();
    const titleRow = within(dialog).getByRole('row', { name: /Title/ });
    expect(within(titleRow).getByText('Buy milk')).toBeInTheDocument();
    expect(within(titleRow).getByText('Buy bread')).toBeInTheDocument();
    expect(titleRow).toHaveClass('differs');
    expect(within(dialog).getByRole('row', { name: /Description/ })).not.toHaveClass('differs');
  });

  it('lets the user choose a version, and focuses the first choice', async () => {
    const user = userEvent.setup();
    const keep = vi.fn();
    const use = vi.fn();
    render(<ConflictDialog mine={mine} theirs={theirs} onKeepMine={keep} onUseTheirs={use} onClose={vi.fn()} />);
    expect(screen.getByRole('button', { name: 'Save my version' })).toHaveFocus();
    await user.click(screen.getByRole('button', { name: 'Keep the newer version' }));
    expect(use).toHaveBeenCalledOnce();
    await user.click(screen.getByRole('button', { name: 'Save my version' }));
    expect(keep).toHaveBeenCalledOnce();
  });

  it('closes on Escape', async () => {
    const user = userEvent.setup();
    const close = vi.fn();
    render(<ConflictDialog mine={mine} theirs={theirs} onKeepMine={vi.fn()} onUseTheirs={vi.fn()} onClose={close} />);
    await user.keyboard('{Escape}');
    expect(close).toHaveBeenCalledOnce();
  });

  it('explains when the task was deleted meanwhile', () => {
    render(<ConflictDialog mine={mine} theirs={null} onKeepMine={vi.fn()} onUseTheirs={vi.fn()} onClose={vi.fn()} />);
    expect(screen.getByRole('dialog', { name: 'This task was deleted' })).toBeInTheDocument();
  });
});
