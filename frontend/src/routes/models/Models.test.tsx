import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Viewer } from '../../lib/viewer';
import { fakeServer, member, Wrapper } from '../../test/fakeServer';
import Models from './Models';
import { formatBytes } from './format';

const admin: Viewer = { ...member, role: 'ADMIN' };

const mnist = {
  __typename: 'Model',
  id: 'm1',
  name: 'mnist',
  version: '3',
  description: 'Handwritten digits',
  builtin: false,
  inputs: [{ __typename: 'TensorSpec', name: 'input', shape: [-1, 1, 28, 28], dtype: 'float32' }],
  outputs: [{ __typename: 'TensorSpec', name: 'probabilities', shape: [1, 10], dtype: 'float32' }],
  labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  operators: ['Conv', 'Relu', 'Softmax'],
  engine: { __typename: 'ModelEngine', backend: 'compiled', kernels: 'avx512', anyBatch: true },
  sha256: 'ab'.repeat(32),
  sizeBytes: 322363,
  parameters: 80042,
  createdAt: '2026-11-25T10:00:00Z',
  uploadedBy: { __typename: 'User', id: '1', name: 'Ada', email: 'ada@example.com' },
};

function renderModels(viewer: Viewer, models: unknown[] = [mnist]) {
  const s = fakeServer({ ModelsPage: () => ({ models }), DeleteModel: () => ({ deleteModel: 'm1' }) });
  render(
    <Wrapper client={s.client} viewer={viewer}>
      <Models />
    </Wrapper>,
  );
  return s;
}

describe('Models', () => {
  it('shows metadata, input and output specs and status', async () => {
    renderModels(member);
    const card = await screen.findByRole('listitem', { name: /mnist/ });
    expect(within(card).getByText('uploaded')).toBeInTheDocument();
    expect(within(card).getByText('Handwritten digits')).toBeInTheDocument();
    expect(within(card).getByText('314.8 KiB, 80,042 parameters')).toBeInTheDocument();
    expect(within(card).getByText('Conv, Relu, Softmax')).toBeInTheDocument();
    expect(within(card).getByText('compiled (avx512), any batch size')).toBeInTheDocument();
    expect(within(card).getByText(/by Ada/)).toBeInTheDocument();
    const inputs = within(card).getByRole('table', { name: 'Inputs' });
    expect(within(inputs).getByText('[?, 1, 28, 28]')).toBeInTheDocument();
    expect(within(within(card).getByRole('table', { name: 'Outputs' })).getByText('probabilities')).toBeInTheDocument();
  });

  it('hides upload and delete from non-admins', async () => {
    renderModels(member);
    await screen.findByRole('listitem', { name: /mnist/ });
    expect(screen.queryByRole('form', { name: 'Upload a model' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Delete/ })).not.toBeInTheDocument();
  });

  it('lets an admin delete after confirming', async () => {
    const user = userEvent.setup();
    const s = renderModels(admin);
    expect(screen.getByRole('form', { name: 'Upload a model' })).toBeInTheDocument();
    await user.click(await screen.findByRole('button', { name: 'Delete model mnist' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete mnist?' });
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(dialog).getByRole('button', { name: 'Delete model' }));
    await waitFor(() => {
      expect(s.named('DeleteModel').map((d) => d.variables)).toEqual([{ name: 'mnist' }]);
    });
  });

  it('never offers to delete the built-in model', async () => {
    renderModels(admin, [{ ...mnist, builtin: true, uploadedBy: null }]);
    const card = await screen.findByRole('listitem', { name: /mnist/ });
    expect(within(card).getByText('built-in')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Delete model mnist' })).not.toBeInTheDocument();
  });

  it('says so when no model is installed', async () => {
    renderModels(admin, []);
    expect(await screen.findByText(/No models are installed yet/)).toBeInTheDocument();
  });
});

describe('formatBytes', () => {
  const cases: [number, string][] = [
    [0, '0 bytes'],
    [1023, '1023 bytes'],
    [1536, '1.5 KiB'],
    [5 * 1024 * 1024, '5.0 MiB'],
  ];
  for (const [n, want] of cases) {
    it(`${n} -> ${want}`, () => {
      expect(formatBytes(n)).toBe(want);
    });
  }
});
