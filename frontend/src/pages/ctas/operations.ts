import { gql } from "urql";

// The CTAs page's GraphQL operations (types in ../../gql/generated.ts via `npm run codegen`).

export const CtaFields = gql`
  fragment CtaFields on Cta {
    id
    type
    name
    description
    url
    buttonText
    payload
    isActive
    createdAt
    updatedAt
  }
`;

export const CtasQuery = gql`
  query Ctas {
    ctas { ...CtaFields }
  }
  ${CtaFields}
`;

export const CreateCtaMutation = gql`
  mutation CreateCta($input: CtaCreateInput!) {
    createCta(input: $input) {
      __typename
      ... on Cta { ...CtaFields }
      ... on LimitError { message code problems { field message } }
      ... on UserError { message code }
    }
  }
  ${CtaFields}
`;

export const UpdateCtaMutation = gql`
  mutation UpdateCta($id: ID!, $input: CtaUpdateInput!) {
    updateCta(id: $id, input: $input) {
      __typename
      ... on Cta { ...CtaFields }
      ... on LimitError { message code problems { field message } }
      ... on UserError { message code }
    }
  }
  ${CtaFields}
`;

export const SetCtaActiveMutation = gql`
  mutation SetCtaActive($id: ID!, $active: Boolean!) {
    setCtaActive(id: $id, active: $active) {
      __typename
      ... on Cta { ...CtaFields }
      ... on UserError { message code }
    }
  }
  ${CtaFields}
`;

export const DeleteCtaMutation = gql`
  mutation DeleteCta($id: ID!) {
    deleteCta(id: $id) {
      __typename
      ... on Deleted { id }
      ... on UserError { message code }
    }
  }
`;
