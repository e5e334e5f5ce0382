import { graphql } from '../../gql';

export const TaskFieldsFragment = graphql(`
  fragment TaskFields on Task {
    id
    title
    description
    done
    priority
    dueAt
    createdAt
    updatedAt
    version
    owner {
      id
      name
    }
  }
`);
