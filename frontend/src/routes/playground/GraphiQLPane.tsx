import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/style.css';
import { graphqlURL, websocketURL } from '../../lib/client';

// Same origin: the browser sends the session cookie with every request, so
// the playground acts as the signed-in user with no token to paste.
const fetcher = createGraphiQLFetcher({ url: graphqlURL, subscriptionUrl: websocketURL() });

const defaultQuery = `# Welcome to the Taskmind GraphQL playground.
# Queries run as you, with your session. Open the docs for the full schema.
query MyTasks {
  viewer {
    name
    role
  }
  tasks(first: 5, orderBy: { field: CREATED_AT, direction: DESC }) {
    totalCount
    edges {
      node {
        id
        title
        done
        priority
      }
    }
  }
}
`;

export default function GraphiQLPane() {
  return (
    <div className="graphiql-host">
      <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} shouldPersistHeaders={false} />
    </div>
  );
}
