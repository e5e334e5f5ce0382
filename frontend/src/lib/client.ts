import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWSClient } from 'graphql-ws';

/** graphqlURL is same-origin: the session cookie authenticates every request. */
export const graphqlURL = '/graphql';

export function websocketURL(loc: { protocol: string; host: string } = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}${graphqlURL}`;
}

/**
 * newClient builds the app's urql client: queries and mutations over HTTP
 * (urql sends queries as GET), subscriptions over graphql-ws. The socket opens
 * lazily, on the first subscription, and retries when the server restarts.
 */
export function newClient(): Client {
  const ws = createWSClient({ url: websocketURL(), lazy: true, retryAttempts: Infinity });
  return new Client({
    url: graphqlURL,
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
    fetchOptions: { credentials: 'same-origin' },
    requestPolicy: 'cache-and-network',
  });
}
