import { useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { Empty, ErrorMessage, Loading } from '../../components/Status';

const PAGE_SIZE = 25;

const PredictionsQuery = graphql(`
  query Predictions($first: Int, $after: Cursor, $last: Int, $before: Cursor) {
    predictions(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
      edges {
        node {
          id
          createdAt
          model
          modelVersion
          digit
          confidence
        }
      }
    }
  }
`);

export default function History() {
  const [page, setPage] = useState<{ after?: string; before?: string }>({});
  const variables = page.before ? { last: PAGE_SIZE, before: page.before } : { first: PAGE_SIZE, after: page.after };
  const [{ data, error, fetching }] = useQuery({ query: PredictionsQuery, variables, requestPolicy: 'network-only' });
  const conn = data?.predictions;
  const rows = (conn?.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
  return (
    <section className="page history">
      <h1>Prediction history</h1>
      <p className="lead">Every digit read by a model, newest first.</p>
      {error && !conn ? (
        <ErrorMessage error={error} title="Could not load the history" />
      ) : !conn ? (
        <Loading label="Loading predictions…" />
      ) : rows.length === 0 ? (
        <Empty>No predictions yet. Draw a digit in the digit playground.</Empty>
      ) : (
        <>
          <div className="table-scroll">
            <table className="data">
              <caption className="visually-hidden">Predictions</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Model</th>
                  <th scope="col">Digit</th>
                  <th scope="col">Confidence</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((p) => (
                  <tr key={p.id}>
                    <td><time dateTime={p.createdAt}>{new Date(p.createdAt).toLocaleString()}</time></td>
                    <td>{p.model} <span className="muted">v{p.modelVersion}</span></td>
                    <td className="num">{p.digit}</td>
                    <td className="num">{(p.confidence * 100).toFixed(1)}%</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages">
            <button type="button" className="secondary" disabled={!conn.pageInfo.hasPreviousPage || fetching} onClick={() => { setPage({ before: conn.pageInfo.startCursor ?? undefined }); }}>
              Newer
            </button>
            <span>{conn.totalCount} predictions</span>
            <button type="button" className="secondary" disabled={!conn.pageInfo.hasNextPage || fetching} onClick={() => { setPage({ after: conn.pageInfo.endCursor ?? undefined }); }}>
              Older
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
