import { gql } from "urql";

// Every GraphQL operation the dashboard runs. `npm run codegen` reads these and writes their
// result and variable types to ./generated.ts.

export const ViewerQuery = gql`
  query Viewer {
    me {
      role
      isPlatformAdmin
      user { id name email }
      organisation { id name slug timezone }
    }
  }
`;

export const ConversationListFields = gql`
  fragment ConversationListFields on Conversation {
    id
    mode
    stage
    intentLevel
    sentiment
    needsAttention
    attentionReason
    attentionRaisedAt
    lastMessageAt
    lastMessagePreview
    windowOpen
    windowExpiresAt
    lead { id name waId optedOut }
    assignedTo { id name }
    lastMessage { id direction author status }
    unreadCount
  }
`;

export const InboxQuery = gql`
  query Inbox($first: Int!, $after: String, $filter: ConversationFilter) {
    conversations(first: $first, after: $after, filter: $filter) {
      edges { cursor node { ...ConversationListFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
  ${ConversationListFields}
`;

export const MessageFields = gql`
  fragment MessageFields on Message {
    id
    conversationId
    direction
    author
    type
    text
    media { mimeType caption filename sizeBytes url }
    interactive { kind body options url urlLabel }
    template { name language parameters }
    status
    createdAt
    sentAt
    deliveredAt
    readAt
    failedAt
    errorCode
    errorTitle
    sentBy { id name }
    trace { id }
  }
`;

export const ConversationQuery = gql`
  query Conversation($id: ID!, $first: Int!, $after: String) {
    conversation(id: $id) {
      ...ConversationListFields
      humanSince
      autoReleaseAt
      closedAt
      createdAt
      lead { id name waId optedOut language tags }
      messages(first: $first, after: $after) {
        edges { cursor node { ...MessageFields } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
  ${ConversationListFields}
  ${MessageFields}
`;

export const TraceQuery = gql`
  query Trace($id: ID!) {
    message(id: $id) {
      id
      text
      trace {
        id
        status
        provider
        isOffline
        startedAt
        finishedAt
        latencyMs
        inputTokens
        outputTokens
        costUsd
        decision
        error
        knowledgeUsed
        steps {
          stage
          attempt
          model
          promptVersion
          latencyMs
          inputTokens
          outputTokens
          output
          error
          overrides
        }
      }
    }
  }
`;

export const MembersQuery = gql`
  query Members {
    users { id name email role isActive }
  }
`;

const ActionResult = gql`
  fragment ActionResult on ConversationActionResult {
    __typename
    ... on Conversation { ...ConversationListFields humanSince autoReleaseAt closedAt }
    ... on UserError { message code }
  }
  ${ConversationListFields}
`;

export const TakeoverMutation = gql`
  mutation Takeover($id: ID!) { takeover(conversationId: $id) { ...ActionResult } }
  ${ActionResult}
`;
export const ReleaseMutation = gql`
  mutation Release($id: ID!) { release(conversationId: $id) { ...ActionResult } }
  ${ActionResult}
`;
export const AssignMutation = gql`
  mutation Assign($id: ID!, $userId: ID) { assign(conversationId: $id, userId: $userId) { ...ActionResult } }
  ${ActionResult}
`;
export const CloseMutation = gql`
  mutation Close($id: ID!) { close(conversationId: $id) { ...ActionResult } }
  ${ActionResult}
`;
export const ResolveAttentionMutation = gql`
  mutation ResolveAttention($id: ID!) { resolveAttention(conversationId: $id) { ...ActionResult } }
  ${ActionResult}
`;

export const StartFollowupsMutation = gql`
  mutation StartFollowups($id: ID!, $sequenceId: ID!) { startFollowups(conversationId: $id, sequenceId: $sequenceId) { ...ActionResult } }
  ${ActionResult}
`;

/** The sequences an operator can start by hand on a conversation (active ones, manual first). */
export const StartableSequencesQuery = gql`
  query StartableSequences { followupSequences { id name trigger isActive } }
`;

export const MarkConversationReadMutation = gql`
  mutation MarkConversationRead($id: ID!) {
    markConversationRead(conversationId: $id) {
      __typename
      ... on Conversation { id unreadCount }
      ... on UserError { message code }
    }
  }
`;

export const QuickRepliesQuery = gql`
  query QuickReplies { quickReplies { id title text } }
`;

const QuickReplyResult = gql`
  fragment QuickReplyResult on QuickReplyResult {
    __typename
    ... on QuickReply { id title text }
    ... on LimitError { message problems { field message } }
    ... on UserError { message code }
  }
`;

export const CreateQuickReplyMutation = gql`
  mutation CreateQuickReply($input: QuickReplyInput!) { createQuickReply(input: $input) { ...QuickReplyResult } }
  ${QuickReplyResult}
`;
export const UpdateQuickReplyMutation = gql`
  mutation UpdateQuickReply($id: ID!, $input: QuickReplyUpdateInput!) { updateQuickReply(id: $id, input: $input) { ...QuickReplyResult } }
  ${QuickReplyResult}
`;
export const DeleteQuickReplyMutation = gql`
  mutation DeleteQuickReply($id: ID!) {
    deleteQuickReply(id: $id) { __typename ... on Deleted { id } ... on UserError { message code } }
  }
`;

export const SendMessageMutation = gql`
  mutation SendMessage(
    $conversationId: ID!
    $text: String
    $buttons: [ReplyButtonInput!]
    $templateId: ID
    $templateParameters: [String!]
    $idempotencyKey: String
  ) {
    sendMessage(
      conversationId: $conversationId
      text: $text
      buttons: $buttons
      templateId: $templateId
      templateParameters: $templateParameters
      idempotencyKey: $idempotencyKey
    ) {
      __typename
      ... on MessageQueued { verdict queued { ...MessageFields } }
      ... on WindowClosed { message }
      ... on OptedOut { message }
      ... on ValidationProblem { message field }
      ... on UserError { message code }
    }
  }
  ${MessageFields}
`;

export const MessageCreatedSubscription = gql`
  subscription MessageCreated($conversationId: ID) {
    messageCreated(conversationId: $conversationId) { conversationId messageIds leadId }
  }
`;

export const MessageStatusSubscription = gql`
  subscription MessageStatus($conversationId: ID) {
    messageStatusChanged(conversationId: $conversationId) { conversationId messageIds }
  }
`;

export const ConversationUpdatedSubscription = gql`
  subscription ConversationUpdated($conversationId: ID) {
    conversationUpdated(conversationId: $conversationId) { type conversationId messageId leadId }
  }
`;

export const AttentionSubscription = gql`
  subscription AttentionChanged {
    attentionQueueChanged { conversationId }
  }
`;

export const DashboardQuery = gql`
  query Dashboard($dateFrom: Date, $dateTo: Date) {
    dashboard(dateFrom: $dateFrom, dateTo: $dateTo) {
      range { dateFrom dateTo timezone }
      conversations
      activeLeads
      highIntentLeads
      messagesByAuthor { author count }
      attention { count oldestRaisedAt }
      medianFirstResponseSeconds
      aiHandledShare
    }
    analytics(dateFrom: $dateFrom, dateTo: $dateTo) {
      funnel { stage reached conversionFromPrevious }
      handoffRate
      llm { runs inputTokens outputTokens costUsd }
      series { day newConversations inboundMessages outboundMessages }
    }
  }
`;

export const ApprovedTemplatesQuery = gql`
  query ApprovedTemplates {
    templates(status: APPROVED) { id name language category status components }
  }
`;

export const SimulateCustomerMessageMutation = gql`
  mutation SimulateCustomerMessage($text: String!, $fromWaId: String!, $name: String, $withConversation: Boolean = false) {
    simulateCustomerMessage(text: $text, fromWaId: $fromWaId, name: $name) {
      __typename
      ... on SimulatedMessage { wamid channelId conversationId @include(if: $withConversation) }
      ... on UserError { message code }
    }
  }
`;
