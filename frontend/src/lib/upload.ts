import { stringifyDocument } from 'urql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { AppError } from './errors';

export interface UploadResult<T> {
  data?: T;
  errors?: AppError[];
}

/**
 * multipartBody builds a GraphQL multipart request
 * (https://github.com/jaydenseric/graphql-multipart-request-spec): the
 * operation with null in place of each file, a map from file field to
 * variable path, then the files.
 */
export function multipartBody(query: string, variables: Record<string, unknown>, files: Record<string, File>): FormData {
  const vars: Record<string, unknown> = { ...variables };
  const map: Record<string, string[]> = {};
  Object.keys(files).forEach((name, i) => {
    vars[name] = null;
    map[String(i)] = [`variables.${name}`];
  });
  const body = new FormData();
  body.append('operations', JSON.stringify({ query, variables: vars }));
  body.append('map', JSON.stringify(map));
  Object.values(files).forEach((f, i) => {
    body.append(String(i), f, f.name);
  });
  return body;
}

/**
 * uploadGraphQL sends a multipart mutation with XMLHttpRequest, because
 * fetch cannot report upload progress. onProgress gets a fraction in [0,1].
 */
export function uploadGraphQL<T>(
  doc: TypedDocumentNode<T, never>,
  variables: Record<string, unknown>,
  files: Record<string, File>,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<UploadResult<T>> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/graphql');
    xhr.withCredentials = true;
    xhr.responseType = 'text';
    // A non-simple header forces a CORS preflight, so a cross-site form
    // cannot post a multipart mutation with the user's cookie.
    xhr.setRequestHeader('GraphQL-Preflight', '1');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      try {
        const body = JSON.parse(xhr.responseText) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
        resolve({
          data: body.data ?? undefined,
          errors: body.errors?.map((e) => ({ message: e.message, code: e.extensions?.code })),
        });
      } catch {
        resolve({ errors: [{ message: `The server answered ${xhr.status} ${xhr.statusText}.`, code: 'NETWORK' }] });
      }
    };
    xhr.onerror = () => {
      resolve({ errors: [{ message: 'The upload failed: could not reach the server.', code: 'NETWORK' }] });
    };
    xhr.onabort = () => {
      resolve({ errors: [{ message: 'The upload was cancelled.', code: 'NETWORK' }] });
    };
    signal?.addEventListener('abort', () => {
      xhr.abort();
    });
    xhr.send(multipartBody(stringifyDocument(doc), variables, files));
  });
}
