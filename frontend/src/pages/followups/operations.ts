import { gql } from "urql";

// The Follow-ups page's GraphQL operations (types in ../../gql/generated.ts via `npm run codegen`).

export const FollowupSequenceFields = gql`
  fragment FollowupSequenceFields on FollowupSequence {
    id
    name
    trigger
    isActive
    steps { position delayMinutes messageHint templateId }
    createdAt
    updatedAt
  }
`;

export const FollowupSequencesQuery = gql`
  query FollowupSequences {
    followupSequences { ...FollowupSequenceFields }
  }
  ${FollowupSequenceFields}
`;

export const FollowupSequenceQuery = gql`
  query FollowupSequence($id: ID!) {
    followupSequence(id: $id) { ...FollowupSequenceFields }
  }
  ${FollowupSequenceFields}
`;

/** The templates a step may send outside the 24-hour window (approved ones). */
export const FollowupTemplatesQuery = gql`
  query FollowupTemplates {
    templates(status: APPROVED) { id name language status }
  }
`;

export const CreateFollowupSequenceMutation = gql`
  mutation CreateFollowupSequence($input: FollowupSequenceInput!) {
    createFollowupSequence(input: $input) {
      __typename
      ... on FollowupSequence { ...FollowupSequenceFields }
      ... on LimitError { message code problems { field message } }
      ... on UserError { message code }
    }
  }
  ${FollowupSequenceFields}
`;

export const ReplaceFollowupSequenceMutation = gql`
  mutation ReplaceFollowupSequence($id: ID!, $input: FollowupSequenceInput!) {
    replaceFollowupSequence(id: $id, input: $input) {
      __typename
      ... on FollowupSequence { ...FollowupSequenceFields }
      ... on LimitError { message code problems { field message } }
      ... on UserError { message code }
    }
  }
  ${FollowupSequenceFields}
`;

export const DeleteFollowupSequenceMutation = gql`
  mutation DeleteFollowupSequence($id: ID!) {
    deleteFollowupSequence(id: $id) {
      __typename
      ... on Deleted { id }
      ... on UserError { message code }
    }
  }
`;
