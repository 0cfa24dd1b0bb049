import { gql } from "urql";

// The knowledge page's GraphQL operations (types in ../../gql/generated.ts via `npm run codegen`).

export const KnowledgeDocumentsQuery = gql`
  query KnowledgeDocuments {
    knowledgeDocuments { id title filename docType sizeBytes status progress chunkCount error createdAt processedAt }
  }
`;

export const KnowledgeSearchQuery = gql`
  query KnowledgeSearch($query: String!, $topK: Int!) {
    knowledgeSearch(query: $query, topK: $topK) {
      grounded
      threshold
      hits { chunkId documentId title content page score }
    }
  }
`;

export const DeleteKnowledgeDocumentMutation = gql`
  mutation DeleteKnowledgeDocument($id: ID!) {
    deleteKnowledgeDocument(id: $id) {
      __typename
      ... on Deleted { id }
      ... on UserError { message code }
    }
  }
`;

export const KnowledgeDocumentUpdatedSubscription = gql`
  subscription KnowledgeDocumentUpdated {
    knowledgeDocumentUpdated { documentId status progress }
  }
`;
