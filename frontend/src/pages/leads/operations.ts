import { gql } from "urql";

// The leads page's GraphQL operations (types in ../../gql/generated.ts via `npm run codegen`).

export const LeadFields = gql`
  fragment LeadFields on Lead {
    id
    name
    waId
    email
    company
    language
    tags
    stage
    intentLevel
    sentiment
    optedOut
    optedOutAt
    lastInboundAt
    createdAt
  }
`;

export const LeadsQuery = gql`
  query Leads($first: Int!, $after: String, $filter: LeadFilter) {
    leads(first: $first, after: $after, filter: $filter) {
      edges { cursor node { ...LeadFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
  ${LeadFields}
`;

export const LeadDetailQuery = gql`
  query LeadDetail($id: ID!) {
    lead(id: $id) {
      lead { ...LeadFields }
      conversations(first: 20) {
        edges { node { id mode stage needsAttention lastMessageAt lastMessagePreview createdAt closedAt } }
      }
      notes(first: 50) { id body authorUserId createdAt }
    }
    users { id name }
  }
  ${LeadFields}
`;

export const TagLeadMutation = gql`
  mutation TagLead($id: ID!, $add: [String!], $remove: [String!]) {
    tagLead(id: $id, add: $add, remove: $remove) {
      __typename
      ... on Lead { ...LeadFields }
      ... on UserError { message code }
    }
  }
  ${LeadFields}
`;

export const AddLeadNoteMutation = gql`
  mutation AddLeadNote($id: ID!, $body: String!) {
    addLeadNote(id: $id, body: $body) {
      __typename
      ... on Note { id body authorUserId createdAt }
      ... on UserError { message code }
    }
  }
`;

export const OptOutLeadMutation = gql`
  mutation OptOutLead($id: ID!) {
    optOutLead(id: $id) {
      __typename
      ... on Lead { ...LeadFields }
      ... on UserError { message code }
    }
  }
  ${LeadFields}
`;

export const EraseLeadMutation = gql`
  mutation EraseLead($id: ID!) {
    eraseLead(id: $id) {
      __typename
      ... on Erased { leadId conversations messages }
      ... on UserError { message code }
    }
  }
`;

export const UpdateLeadMutation = gql`
  mutation UpdateLead($id: ID!, $input: LeadInput!) {
    updateLead(id: $id, input: $input) {
      __typename
      ... on Lead { ...LeadFields }
      ... on UserError { message code }
    }
  }
  ${LeadFields}
`;

export const LeadsLiveSubscription = gql`
  subscription LeadsLive {
    messageCreated { conversationId leadId }
  }
`;
