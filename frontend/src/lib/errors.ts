import type { CombinedError } from 'urql';

/** The codes the server puts in a GraphQL error's extensions.code. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'BAD_USER_INPUT'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'NETWORK';

export interface AppError {
  message: string;
  /** code is one of ErrorCode when the server set one. */
  code: string | undefined;
}

/**
 * describeError turns urql's CombinedError into what a user should read: the
 * server's messages (never a stack), or a plain sentence for a network failure.
 */
export function describeError(error: CombinedError): AppError[] {
  if (error.graphQLErrors.length > 0) {
    return error.graphQLErrors.map((e) => {
      const code = e.extensions.code;
      return { message: e.message, code: typeof code === 'string' ? code : undefined };
    });
  }
  if (error.networkError) {
    return [{ message: 'Could not reach the server. Check your connection and try again.', code: 'NETWORK' }];
  }
  return [{ message: error.message, code: undefined }];
}

/** hasCode reports whether any GraphQL error in error carries code. */
export function hasCode(error: CombinedError | undefined, code: ErrorCode): boolean {
  return !!error?.graphQLErrors.some((e) => e.extensions.code === code);
}
