/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Viewer {\n    viewer {\n      id\n      email\n      name\n      avatarURL\n      role\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  query AdminUsers($first: Int, $after: Cursor, $last: Int, $before: Cursor, $where: UserWhereInput) {\n    users(first: $first, after: $after, last: $last, before: $before, where: $where, orderBy: { field: EMAIL, direction: ASC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          email\n          name\n          role\n          disabled\n          createdAt\n        }\n      }\n    }\n  }\n": typeof types.AdminUsersDocument,
    "\n  mutation SetUserRole($id: ID!, $role: UserRole!) {\n    setUserRole(id: $id, role: $role) {\n      id\n      role\n    }\n  }\n": typeof types.SetUserRoleDocument,
    "\n  mutation SetUserDisabled($id: ID!, $disabled: Boolean!) {\n    setUserDisabled(id: $id, disabled: $disabled) {\n      id\n      disabled\n    }\n  }\n": typeof types.SetUserDisabledDocument,
    "\n  query BoardTasks($first: Int, $after: Cursor, $last: Int, $before: Cursor, $orderBy: TaskOrder, $where: TaskWhereInput) {\n    tasks(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, where: $where) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          id\n          ...TaskFields\n        }\n      }\n    }\n  }\n": typeof types.BoardTasksDocument,
    "\n  query TaskLatest($id: ID!) {\n    node(id: $id) {\n      __typename\n      ... on Task {\n        id\n        ...TaskFields\n      }\n    }\n  }\n": typeof types.TaskLatestDocument,
    "\n  mutation CreateTask($input: CreateTaskInput!) {\n    createTask(input: $input) {\n      id\n      ...TaskFields\n    }\n  }\n": typeof types.CreateTaskDocument,
    "\n  mutation UpdateTask($id: ID!, $input: UpdateTaskInput!, $expectedVersion: Int) {\n    updateTask(id: $id, input: $input, expectedVersion: $expectedVersion) {\n      id\n      ...TaskFields\n    }\n  }\n": typeof types.UpdateTaskDocument,
    "\n  mutation SetTaskDone($id: ID!, $done: Boolean!) {\n    setTaskDone(id: $id, done: $done) {\n      id\n      ...TaskFields\n    }\n  }\n": typeof types.SetTaskDoneDocument,
    "\n  mutation DeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n": typeof types.DeleteTaskDocument,
    "\n  subscription TaskChanged {\n    taskChanged {\n      kind\n      id\n    }\n  }\n": typeof types.TaskChangedDocument,
    "\n  fragment TaskFields on Task {\n    id\n    title\n    description\n    done\n    priority\n    dueAt\n    createdAt\n    updatedAt\n    version\n    owner {\n      id\n      name\n    }\n  }\n": typeof types.TaskFieldsFragmentDoc,
    "\n  query DigitModels {\n    models {\n      id\n      name\n      version\n      labels\n      inputs {\n        name\n        shape\n      }\n    }\n  }\n": typeof types.DigitModelsDocument,
    "\n  mutation ClassifyDigit($pixels: [Float!]!, $model: String) {\n    classifyDigit(pixels: $pixels, model: $model) {\n      digit\n      probabilities\n      model\n      modelVersion\n    }\n  }\n": typeof types.ClassifyDigitDocument,
    "\n  query Predictions($first: Int, $after: Cursor, $last: Int, $before: Cursor) {\n    predictions(first: $first, after: $after, last: $last, before: $before, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          createdAt\n          model\n          modelVersion\n          topIndex\n          topLabel\n          topScore\n          latencyMs\n          source\n          user {\n            id\n            name\n            email\n          }\n        }\n      }\n    }\n  }\n": typeof types.PredictionsDocument,
    "\n  query ModelsPage {\n    models {\n      id\n      name\n      version\n      description\n      builtin\n      inputs {\n        name\n        shape\n        dtype\n      }\n      outputs {\n        name\n        shape\n        dtype\n      }\n      labels\n      operators\n      engine {\n        backend\n        kernels\n        anyBatch\n      }\n      sha256\n      sizeBytes\n      parameters\n      createdAt\n      uploadedBy {\n        id\n        name\n        email\n      }\n    }\n  }\n": typeof types.ModelsPageDocument,
    "\n  mutation UploadModel($file: Upload!, $name: String!, $description: String, $labels: [String!]) {\n    uploadModel(file: $file, name: $name, description: $description, labels: $labels) {\n      id\n      name\n      version\n    }\n  }\n": typeof types.UploadModelDocument,
    "\n  mutation DeleteModel($name: String!) {\n    deleteModel(name: $name)\n  }\n": typeof types.DeleteModelDocument,
    "\n  query APITokens {\n    apiTokens {\n      id\n      name\n      last4\n      createdAt\n      expiresAt\n      lastUsedAt\n      revokedAt\n    }\n  }\n": typeof types.ApiTokensDocument,
    "\n  mutation CreateAPIToken($input: CreateAPITokenInput!) {\n    createAPIToken(input: $input) {\n      token\n      apiToken {\n        id\n        name\n        last4\n        createdAt\n        expiresAt\n        lastUsedAt\n        revokedAt\n      }\n    }\n  }\n": typeof types.CreateApiTokenDocument,
    "\n  mutation RevokeAPIToken($id: ID!) {\n    revokeAPIToken(id: $id) {\n      id\n      revokedAt\n    }\n  }\n": typeof types.RevokeApiTokenDocument,
};
const documents: Documents = {
    "\n  query Viewer {\n    viewer {\n      id\n      email\n      name\n      avatarURL\n      role\n    }\n  }\n": types.ViewerDocument,
    "\n  query AdminUsers($first: Int, $after: Cursor, $last: Int, $before: Cursor, $where: UserWhereInput) {\n    users(first: $first, after: $after, last: $last, before: $before, where: $where, orderBy: { field: EMAIL, direction: ASC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          email\n          name\n          role\n          disabled\n          createdAt\n        }\n      }\n    }\n  }\n": types.AdminUsersDocument,
    "\n  mutation SetUserRole($id: ID!, $role: UserRole!) {\n    setUserRole(id: $id, role: $role) {\n      id\n      role\n    }\n  }\n": types.SetUserRoleDocument,
    "\n  mutation SetUserDisabled($id: ID!, $disabled: Boolean!) {\n    setUserDisabled(id: $id, disabled: $disabled) {\n      id\n      disabled\n    }\n  }\n": types.SetUserDisabledDocument,
    "\n  query BoardTasks($first: Int, $after: Cursor, $last: Int, $before: Cursor, $orderBy: TaskOrder, $where: TaskWhereInput) {\n    tasks(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, where: $where) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          id\n          ...TaskFields\n        }\n      }\n    }\n  }\n": types.BoardTasksDocument,
    "\n  query TaskLatest($id: ID!) {\n    node(id: $id) {\n      __typename\n      ... on Task {\n        id\n        ...TaskFields\n      }\n    }\n  }\n": types.TaskLatestDocument,
    "\n  mutation CreateTask($input: CreateTaskInput!) {\n    createTask(input: $input) {\n      id\n      ...TaskFields\n    }\n  }\n": types.CreateTaskDocument,
    "\n  mutation UpdateTask($id: ID!, $input: UpdateTaskInput!, $expectedVersion: Int) {\n    updateTask(id: $id, input: $input, expectedVersion: $expectedVersion) {\n      id\n      ...TaskFields\n    }\n  }\n": types.UpdateTaskDocument,
    "\n  mutation SetTaskDone($id: ID!, $done: Boolean!) {\n    setTaskDone(id: $id, done: $done) {\n      id\n      ...TaskFields\n    }\n  }\n": types.SetTaskDoneDocument,
    "\n  mutation DeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n": types.DeleteTaskDocument,
    "\n  subscription TaskChanged {\n    taskChanged {\n      kind\n      id\n    }\n  }\n": types.TaskChangedDocument,
    "\n  fragment TaskFields on Task {\n    id\n    title\n    description\n    done\n    priority\n    dueAt\n    createdAt\n    updatedAt\n    version\n    owner {\n      id\n      name\n    }\n  }\n": types.TaskFieldsFragmentDoc,
    "\n  query DigitModels {\n    models {\n      id\n      name\n      version\n      labels\n      inputs {\n        name\n        shape\n      }\n    }\n  }\n": types.DigitModelsDocument,
    "\n  mutation ClassifyDigit($pixels: [Float!]!, $model: String) {\n    classifyDigit(pixels: $pixels, model: $model) {\n      digit\n      probabilities\n      model\n      modelVersion\n    }\n  }\n": types.ClassifyDigitDocument,
    "\n  query Predictions($first: Int, $after: Cursor, $last: Int, $before: Cursor) {\n    predictions(first: $first, after: $after, last: $last, before: $before, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          createdAt\n          model\n          modelVersion\n          topIndex\n          topLabel\n          topScore\n          latencyMs\n          source\n          user {\n            id\n            name\n            email\n          }\n        }\n      }\n    }\n  }\n": types.PredictionsDocument,
    "\n  query ModelsPage {\n    models {\n      id\n      name\n      version\n      description\n      builtin\n      inputs {\n        name\n        shape\n        dtype\n      }\n      outputs {\n        name\n        shape\n        dtype\n      }\n      labels\n      operators\n      engine {\n        backend\n        kernels\n        anyBatch\n      }\n      sha256\n      sizeBytes\n      parameters\n      createdAt\n      uploadedBy {\n        id\n        name\n        email\n      }\n    }\n  }\n": types.ModelsPageDocument,
    "\n  mutation UploadModel($file: Upload!, $name: String!, $description: String, $labels: [String!]) {\n    uploadModel(file: $file, name: $name, description: $description, labels: $labels) {\n      id\n      name\n      version\n    }\n  }\n": types.UploadModelDocument,
    "\n  mutation DeleteModel($name: String!) {\n    deleteModel(name: $name)\n  }\n": types.DeleteModelDocument,
    "\n  query APITokens {\n    apiTokens {\n      id\n      name\n      last4\n      createdAt\n      expiresAt\n      lastUsedAt\n      revokedAt\n    }\n  }\n": types.ApiTokensDocument,
    "\n  mutation CreateAPIToken($input: CreateAPITokenInput!) {\n    createAPIToken(input: $input) {\n      token\n      apiToken {\n        id\n        name\n        last4\n        createdAt\n        expiresAt\n        lastUsedAt\n        revokedAt\n      }\n    }\n  }\n": types.CreateApiTokenDocument,
    "\n  mutation RevokeAPIToken($id: ID!) {\n    revokeAPIToken(id: $id) {\n      id\n      revokedAt\n    }\n  }\n": types.RevokeApiTokenDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      id\n      email\n      name\n      avatarURL\n      role\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      id\n      email\n      name\n      avatarURL\n      role\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminUsers($first: Int, $after: Cursor, $last: Int, $before: Cursor, $where: UserWhereInput) {\n    users(first: $first, after: $after, last: $last, before: $before, where: $where, orderBy: { field: EMAIL, direction: ASC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          email\n          name\n          role\n          disabled\n          createdAt\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AdminUsers($first: Int, $after: Cursor, $last: Int, $before: Cursor, $where: UserWhereInput) {\n    users(first: $first, after: $after, last: $last, before: $before, where: $where, orderBy: { field: EMAIL, direction: ASC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          email\n          name\n          role\n          disabled\n          createdAt\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetUserRole($id: ID!, $role: UserRole!) {\n    setUserRole(id: $id, role: $role) {\n      id\n      role\n    }\n  }\n"): (typeof documents)["\n  mutation SetUserRole($id: ID!, $role: UserRole!) {\n    setUserRole(id: $id, role: $role) {\n      id\n      role\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetUserDisabled($id: ID!, $disabled: Boolean!) {\n    setUserDisabled(id: $id, disabled: $disabled) {\n      id\n      disabled\n    }\n  }\n"): (typeof documents)["\n  mutation SetUserDisabled($id: ID!, $disabled: Boolean!) {\n    setUserDisabled(id: $id, disabled: $disabled) {\n      id\n      disabled\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BoardTasks($first: Int, $after: Cursor, $last: Int, $before: Cursor, $orderBy: TaskOrder, $where: TaskWhereInput) {\n    tasks(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, where: $where) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          id\n          ...TaskFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query BoardTasks($first: Int, $after: Cursor, $last: Int, $before: Cursor, $orderBy: TaskOrder, $where: TaskWhereInput) {\n    tasks(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, where: $where) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        cursor\n        node {\n          id\n          ...TaskFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskLatest($id: ID!) {\n    node(id: $id) {\n      __typename\n      ... on Task {\n        id\n        ...TaskFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query TaskLatest($id: ID!) {\n    node(id: $id) {\n      __typename\n      ... on Task {\n        id\n        ...TaskFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateTask($input: CreateTaskInput!) {\n    createTask(input: $input) {\n      id\n      ...TaskFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateTask($input: CreateTaskInput!) {\n    createTask(input: $input) {\n      id\n      ...TaskFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateTask($id: ID!, $input: UpdateTaskInput!, $expectedVersion: Int) {\n    updateTask(id: $id, input: $input, expectedVersion: $expectedVersion) {\n      id\n      ...TaskFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateTask($id: ID!, $input: UpdateTaskInput!, $expectedVersion: Int) {\n    updateTask(id: $id, input: $input, expectedVersion: $expectedVersion) {\n      id\n      ...TaskFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetTaskDone($id: ID!, $done: Boolean!) {\n    setTaskDone(id: $id, done: $done) {\n      id\n      ...TaskFields\n    }\n  }\n"): (typeof documents)["\n  mutation SetTaskDone($id: ID!, $done: Boolean!) {\n    setTaskDone(id: $id, done: $done) {\n      id\n      ...TaskFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription TaskChanged {\n    taskChanged {\n      kind\n      id\n    }\n  }\n"): (typeof documents)["\n  subscription TaskChanged {\n    taskChanged {\n      kind\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TaskFields on Task {\n    id\n    title\n    description\n    done\n    priority\n    dueAt\n    createdAt\n    updatedAt\n    version\n    owner {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  fragment TaskFields on Task {\n    id\n    title\n    description\n    done\n    priority\n    dueAt\n    createdAt\n    updatedAt\n    version\n    owner {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DigitModels {\n    models {\n      id\n      name\n      version\n      labels\n      inputs {\n        name\n        shape\n      }\n    }\n  }\n"): (typeof documents)["\n  query DigitModels {\n    models {\n      id\n      name\n      version\n      labels\n      inputs {\n        name\n        shape\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ClassifyDigit($pixels: [Float!]!, $model: String) {\n    classifyDigit(pixels: $pixels, model: $model) {\n      digit\n      probabilities\n      model\n      modelVersion\n    }\n  }\n"): (typeof documents)["\n  mutation ClassifyDigit($pixels: [Float!]!, $model: String) {\n    classifyDigit(pixels: $pixels, model: $model) {\n      digit\n      probabilities\n      model\n      modelVersion\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Predictions($first: Int, $after: Cursor, $last: Int, $before: Cursor) {\n    predictions(first: $first, after: $after, last: $last, before: $before, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          createdAt\n          model\n          modelVersion\n          topIndex\n          topLabel\n          topScore\n          latencyMs\n          source\n          user {\n            id\n            name\n            email\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Predictions($first: Int, $after: Cursor, $last: Int, $before: Cursor) {\n    predictions(first: $first, after: $after, last: $last, before: $before, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          createdAt\n          model\n          modelVersion\n          topIndex\n          topLabel\n          topScore\n          latencyMs\n          source\n          user {\n            id\n            name\n            email\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ModelsPage {\n    models {\n      id\n      name\n      version\n      description\n      builtin\n      inputs {\n        name\n        shape\n        dtype\n      }\n      outputs {\n        name\n        shape\n        dtype\n      }\n      labels\n      operators\n      engine {\n        backend\n        kernels\n        anyBatch\n      }\n      sha256\n      sizeBytes\n      parameters\n      createdAt\n      uploadedBy {\n        id\n        name\n        email\n      }\n    }\n  }\n"): (typeof documents)["\n  query ModelsPage {\n    models {\n      id\n      name\n      version\n      description\n      builtin\n      inputs {\n        name\n        shape\n        dtype\n      }\n      outputs {\n        name\n        shape\n        dtype\n      }\n      labels\n      operators\n      engine {\n        backend\n        kernels\n        anyBatch\n      }\n      sha256\n      sizeBytes\n      parameters\n      createdAt\n      uploadedBy {\n        id\n        name\n        email\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UploadModel($file: Upload!, $name: String!, $description: String, $labels: [String!]) {\n    uploadModel(file: $file, name: $name, description: $description, labels: $labels) {\n      id\n      name\n      version\n    }\n  }\n"): (typeof documents)["\n  mutation UploadModel($file: Upload!, $name: String!, $description: String, $labels: [String!]) {\n    uploadModel(file: $file, name: $name, description: $description, labels: $labels) {\n      id\n      name\n      version\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteModel($name: String!) {\n    deleteModel(name: $name)\n  }\n"): (typeof documents)["\n  mutation DeleteModel($name: String!) {\n    deleteModel(name: $name)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query APITokens {\n    apiTokens {\n      id\n      name\n      last4\n      createdAt\n      expiresAt\n      lastUsedAt\n      revokedAt\n    }\n  }\n"): (typeof documents)["\n  query APITokens {\n    apiTokens {\n      id\n      name\n      last4\n      createdAt\n      expiresAt\n      lastUsedAt\n      revokedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateAPIToken($input: CreateAPITokenInput!) {\n    createAPIToken(input: $input) {\n      token\n      apiToken {\n        id\n        name\n        last4\n        createdAt\n        expiresAt\n        lastUsedAt\n        revokedAt\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateAPIToken($input: CreateAPITokenInput!) {\n    createAPIToken(input: $input) {\n      token\n      apiToken {\n        id\n        name\n        last4\n        createdAt\n        expiresAt\n        lastUsedAt\n        revokedAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeAPIToken($id: ID!) {\n    revokeAPIToken(id: $id) {\n      id\n      revokedAt\n    }\n  }\n"): (typeof documents)["\n  mutation RevokeAPIToken($id: ID!) {\n    revokeAPIToken(id: $id) {\n      id\n      revokedAt\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;