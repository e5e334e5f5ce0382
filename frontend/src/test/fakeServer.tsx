// A stand-in GraphQL server for component tests: a urql exchange that answers
// each operation from a handler keyed by operation name and records what the
// app sent. The app's components and urql's cache run unchanged; only the
// network is replaced.
import { Client, cacheExchange, makeResult, Provider } from 'urql';
import type { Exchange, Operation } from 'urql';
import { Kind } from 'graphql';
import { filter, fromPromise, map, mergeMap, pipe } from 'wonka';
import type { ReactNode } from 'react';
import { RouterProvider } from '../lib/router';
import { ViewerContext } from '../lib/viewer';
import type { Viewer } from '../lib/viewer';

/** A handler returns the operation's data, or { errors } to fail it. */
export type Handler = (vars: Record<string, unknown>) => unknown;

export interface Sent {
  name: string;
  variables: Record<string, unknown>;
}

interface WireError {
  message: string;
  extensions: { code: string };
}

export function gqlError(message: string, code: string): { errors: WireError[] } {
  return { errors: [{ message, extensions: { code } }] };
}

function operationName(op: Operation): string {
  for (const d of op.query.definitions) if (d.kind === Kind.OPERATION_DEFINITION && d.name) return d.name.value;
  return '';
}

export function fakeServer(handlers: Record<string, Handler>) {
  const sent: Sent[] = [];
  const exchange: Exchange = () => (ops$) =>
    pipe(
      ops$,
      filter((op) => op.kind !== 'teardown'),
      mergeMap((op) => {
        const name = operationName(op);
        const variables = (op.variables ?? {}) as Record<string, unknown>;
        sent.push({ name, variables });
        const h = handlers[name];
        const answer: unknown = h ? h(variables) : { errors: [{ message: `no handler for ${name}`, extensions: { code: 'INTERNAL' } }] };
        return pipe(
          fromPromise(Promise.resolve(answer)),
          map((a) => {
            const { errors, ...data } = (a ?? {}) as { errors?: WireError[] } & Record<string, unknown>;
            return makeResult(op, errors ? { data: null, errors } : { data });
          }),
        );
      }),
    );
  const client = new Client({ url: '/graphql', exchanges: [cacheExchange, exchange] });
  return { client, sent, named: (n: string) => sent.filter((s) => s.name === n) };
}

export function Wrapper({ client, viewer, children }: { client: Client; viewer: Viewer | null; children: ReactNode }) {
  return (
    <Provider value={client}>
      <RouterProvider>
        <ViewerContext value={viewer}>{children}</ViewerContext>
      </RouterProvider>
    </Provider>
  );
}

export const member: Viewer = { id: '1', email: 'ada@example.com', name: 'Ada', avatarURL: null, role: 'MEMBER' };
export const viewerRole: Viewer = { ...member, id: '2', role: 'VIEWER' };
