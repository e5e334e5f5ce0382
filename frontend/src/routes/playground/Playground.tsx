import { lazy, Suspense } from 'react';
import { Loading } from '../../components/Status';

// GraphiQL is by far the largest dependency: it loads only on this page.
const GraphiQLPane = lazy(() => import('./GraphiQLPane'));

export default function Playground() {
  return (
    <section className="page playground" aria-labelledby="playground-h">
      <h1 id="playground-h" className="visually-hidden">GraphQL playground</h1>
      <Suspense fallback={<Loading label="Loading the playground…" />}>
        <GraphiQLPane />
      </Suspense>
    </section>
  );
}
