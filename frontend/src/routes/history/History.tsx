import { useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { Empty, ErrorMessage, Loading } from '../../components/Status';

const PAGE_SIZE = 25;

const PredictionsQuery = graphql(`
  query Predictions($first: Int, $after: Cursor, $last: Int, $before: Cursor) {
    predictions(first: $first, after: $after, last: $last, before: $before, orderBy: { field: CREATED_AT, direction: DESC }) {
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
          topIndex
          topLabel
          topScore
          latencyMs
          source
          user {
            id
            name
            email
          }
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
      <p className="lead">Every prediction you can see, newest first: from the digit playground, GraphQL and the REST API.</p>
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
                  <th scope="col">Result</th>
                  <th scope="col">Score</th>
                  <th scope="col">Time</th>
                  <th scope="col">By</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((p) => (
                  <tr key={p.id}>
                    <td><time dateTime={p.createdAt}>{new Date(p.createdAt).toLocaleString()}</time></td>
                    <td>{p.model} <span className="muted">v{p.modelVersion}</span></td>
                    <td className="num">{p.topLabel ?? p.topIndex}</td>
                    <td className="num">{(p.topScore * 100).toFixed(1)}%</td>
                    <td className="num">{p.latencyMs.toFixed(1)} ms</td>
                    <td>
                      {p.user ? p.user.name || p.user.email : '—'} <span className="muted">via {p.source}</span>
                    </td>
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
