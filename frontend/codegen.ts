import type { CodegenConfig } from '@graphql-codegen/cli';
import { existsSync } from 'node:fs';

// The schema is read from the repository's files, never from a running
// server, so codegen works offline and the generated types match the commit.
// ENT_GRAPHQLS overrides the path of entgql's output for a checkout where
// `go generate` has not run yet.
const entSchema = process.env.ENT_GRAPHQLS ?? '../graph/ent.graphqls';
const schema = [entSchema, '../schema.graphqls'].filter((f) => existsSync(f));

const config: CodegenConfig = {
  schema,
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: true,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: { unmaskFunctionName: 'getFragmentData' } },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        skipTypename: false,
        scalars: { Time: 'string', Cursor: 'string', Upload: 'File' },
        strictScalars: true,
      },
    },
  },
};

export default config;
