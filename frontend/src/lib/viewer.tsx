import { createContext, useContext } from 'react';
import { graphql } from '../gql';
import type { ViewerQuery } from '../gql/graphql';

export const ViewerDocument = graphql(`
  query Viewer {
    viewer {
      id
      email
      name
      avatarURL
      role
    }
  }
`);

export type Viewer = NonNullable<ViewerQuery['viewer']>;

/** ViewerContext holds the signed-in user, or null for an anonymous visitor. */
export const ViewerContext = createContext<Viewer | null>(null);

export function useViewer(): Viewer | null {
  return useContext(ViewerContext);
}

/** canEdit reports whether the role may change data (viewers only read). */
export function canEdit(v: Viewer | null): boolean {
  return v?.role === 'ADMIN' || v?.role === 'MEMBER';
}

export function isAdmin(v: Viewer | null): boolean {
  return v?.role === 'ADMIN';
}
