import { gql } from "urql";

// The templates page's GraphQL operations (types in ../../gql/generated.ts via `npm run codegen`).

export const TemplateFields = gql`
  fragment TemplateFields on Template {
    id
    name
    language
    category
    status
    parameterFormat
    purpose
    components
    metaTemplateId
    qualityScore
    rejectionReason
    submittedAt
    approvedAt
    lastSyncedAt
    createdAt
    updatedAt
  }
`;

export const TemplatesQuery = gql`
  query Templates {
    templates { ...TemplateFields }
  }
  ${TemplateFields}
`;


export const CreateTemplateMutation = gql`
  mutation CreateTemplate($input: TemplateCreateInput!) {
    createTemplate(input: $input) {
      __typename
      ... on Template { ...TemplateFields }
      ... on LimitError { message code problems { field message } }
      ... on UserError { message code }
    }
  }
  ${TemplateFields}
`;

export const UpdateTemplateMutation = gql`
  mutation UpdateTemplate($id: ID!, $input: TemplateUpdateInput!) {
    updateTemplate(id: $id, input: $input) {
      __typename
      ... on Template { ...TemplateFields }
      ... on LimitError { message code problems { field message } }
      ... on UserError { message code }
    }
  }
  ${TemplateFields}
`;

export const SubmitTemplateMutation = gql`
  mutation SubmitTemplate($id: ID!) {
    submitTemplate(id: $id) {
      __typename
      ... on Template { ...TemplateFields }
      ... on LimitError { message code problems { field message } }
      ... on UserError { message code }
    }
  }
  ${TemplateFields}
`;

export const ResubmitTemplateMutation = gql`
  mutation ResubmitTemplate($id: ID!) {
    resubmitTemplate(id: $id) {
      __typename
      ... on Template { ...TemplateFields }
      ... on LimitError { message code problems { field message } }
      ... on UserError { message code }
    }
  }
  ${TemplateFields}
`;

export const SyncTemplatesMutation = gql`
  mutation SyncTemplates {
    syncTemplates {
      __typename
      ... on TemplateSyncReport { updated imported }
      ... on UserError { message code }
    }
  }
`;

export const DeleteTemplateMutation = gql`
  mutation DeleteTemplate($id: ID!, $confirm: Boolean!) {
    deleteTemplate(id: $id, confirm: $confirm) {
      __typename
      ... on Deleted { id }
      ... on UserError { message code }
    }
  }
`;

export const TemplateStatusChangedSubscription = gql`
  subscription TemplateStatusChanged {
    templateStatusChanged { templateId status }
  }
`;
