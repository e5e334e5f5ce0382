import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { fakeServer, member, Wrapper } from '../../test/fakeServer';
import Digits from './Digits';

const model = (name: string, shape: number[]) => ({
  __typename: 'Model',
  id: name,
  name,
  version: '1',
  labels: null,
  inputs: [{ __typename: 'TensorSpec', name: 'input', shape }],
});

describe('Digits', () => {
  it('offers only models that take one 1x1x28x28 image', async () => {
    const s = fakeServer({
      DigitModels: () => ({
        models: [
          model('mnist', [1, 1, 28, 28]),
          model('mnist-dynamic', [-1, 1, 28, 28]),
          model('cifar', [1, 3, 32, 32]),
          model('flat', [1, 784]),
        ],
      }),
    });
    render(
      <Wrapper client={s.client} viewer={member}>
        <Digits />
      </Wrapper>,
    );
    const picker = screen.getByLabelText('Model');
    await within(picker).findByRole('option', { name: 'mnist (v1)' });
    expect(within(picker).getAllByRole('option').map((o) => o.textContent)).toEqual(['Default model', 'mnist (v1)', 'mnist-dynamic (v1)']);
    expect(screen.getByRole('img', { name: /Drawing area/ })).toBeInTheDocument();
    expect(screen.getByText('Draw a digit to see what the model reads.')).toBeInTheDocument();
  });
});
