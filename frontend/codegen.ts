import type { CodegenConfig } from "@graphql-codegen/cli";

// Types for every operation in src/, from the API's SDL. The output is committed, so a build
// needs no running API; `npm run codegen` refreshes it after the schema changes.
const config: CodegenConfig = {
  schema: "../api/schema.graphql",
  documents: ["src/**/*.ts", "src/**/*.tsx", "!src/gql/generated.ts"],
  generates: {
    "src/gql/generated.ts": {
      plugins: ["typescript-operations"],
      config: {
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
        scalars: { DateTime: "string", Date: "string", JSON: "any", ID: "string" },
        skipTypename: false,
        nonOptionalTypename: false,
      },
    },
  },
};
export default config;
