/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** A number's Meta credentials; the secrets are never returned. */
export type ConnectChannelInput = {
  accessToken: string;
  appSecret: string;
  /** Like v23.0; null: the platform's default. */
  graphVersion?: string | null | undefined;
  name?: string | null | undefined;
  phoneNumberId: string;
  /** What Meta's webhook handshake must present; chosen in Meta's console. */
  verifyToken: string;
  wabaId: string;
};

export type ConversationFilter = {
  assignedTo?: string | null | undefined;
  channelId?: string | null | undefined;
  mode?: ConversationMode | null | undefined;
  needsAttention?: boolean | null | undefined;
  search?: string | null | undefined;
  stage?: ConversationStage | null | undefined;
};

export type ConversationMode =
  | 'BOT'
  | 'CLOSED'
  | 'HUMAN';

export type ConversationStage =
  | 'CLOSED'
  | 'CTA'
  | 'GHOSTED'
  | 'GREETING'
  | 'LOST'
  | 'PRICING'
  | 'QUALIFICATION';

export type CtaCreateInput = {
  buttonText?: string | null | undefined;
  description?: string | null | undefined;
  isActive?: boolean;
  name: string;
  payload?: any;
  type: CtaType;
  url?: string | null | undefined;
};

export type CtaType =
  | 'BOOK_CALL'
  | 'BOOK_DEMO'
  | 'CUSTOM'
  | 'SEND_LINK'
  | 'VISIT';

export type CtaUpdateInput = {
  buttonText?: string | null | undefined;
  description?: string | null | undefined;
  isActive?: boolean | null | undefined;
  name?: string | null | undefined;
  payload?: any;
  type?: CtaType | null | undefined;
  url?: string | null | undefined;
};

export type DayHoursInput = {
  day: string;
  ranges: Array<TimeRangeInput>;
};

export type FollowupPolicyInput = {
  maxPer24h: number;
  maxTotal: number;
  minGapMinutes: number;
};

export type FollowupSequenceInput = {
  isActive?: boolean;
  name: string;
  steps: Array<FollowupStepInput>;
  trigger?: FollowupTrigger;
};

export type FollowupStepInput = {
  delayMinutes: number;
  messageHint?: string | null | undefined;
  templateId?: string | null | undefined;
};

export type FollowupTrigger =
  | 'CTA_PENDING'
  | 'MANUAL'
  | 'NO_REPLY';

export type IntentLevel =
  | 'HIGH'
  | 'LOW'
  | 'MEDIUM'
  | 'UNKNOWN'
  | 'VERY_HIGH';

export type KnowledgeDocumentStatus =
  | 'FAILED'
  | 'PENDING'
  | 'PROCESSING'
  | 'READY';

export type KnowledgeDocumentType =
  | 'MARKDOWN'
  | 'PDF'
  | 'TEXT';

export type LeadFilter = {
  createdFrom?: string | null | undefined;
  createdTo?: string | null | undefined;
  intentLevel?: IntentLevel | null | undefined;
  optedOut?: boolean | null | undefined;
  search?: string | null | undefined;
  sentiment?: Sentiment | null | undefined;
  stage?: ConversationStage | null | undefined;
  tag?: string | null | undefined;
};

export type LeadInput = {
  company?: string | null | undefined;
  email?: string | null | undefined;
  language?: string | null | undefined;
  name?: string | null | undefined;
  stage?: ConversationStage | null | undefined;
};

export type MessageAuthor =
  | 'BOT'
  | 'HUMAN'
  | 'LEAD'
  | 'SYSTEM';

export type MessageDirection =
  | 'INBOUND'
  | 'OUTBOUND';

export type MessageKind =
  | 'AUDIO'
  | 'BUTTON'
  | 'CONTACTS'
  | 'DOCUMENT'
  | 'IMAGE'
  | 'INTERACTIVE'
  | 'LOCATION'
  | 'ORDER'
  | 'REACTION'
  | 'STICKER'
  | 'SYSTEM'
  | 'TEMPLATE'
  | 'TEXT'
  | 'UNSUPPORTED'
  | 'VIDEO';

export type MessageStatus =
  | 'DELIVERED'
  | 'FAILED'
  | 'PENDING'
  | 'READ'
  | 'RECEIVED'
  | 'SENT';

export type NamedExampleInput = {
  name: string;
  value: string;
};

export type PipelineRunStatus =
  | 'FAILED'
  | 'RUNNING'
  | 'SKIPPED'
  | 'SUCCEEDED';

export type PipelineStage =
  | 'BRAIN'
  | 'EYES'
  | 'MEMORY'
  | 'MOUTH'
  | 'POLICY'
  | 'RAG';

export type QuickReplyInput = {
  text: string;
  title: string;
};

export type QuickReplyUpdateInput = {
  text?: string | null | undefined;
  title?: string | null | undefined;
};

export type ReplyButtonInput = {
  id: string;
  title: string;
};

export type Role =
  | 'ADMIN'
  | 'AGENT'
  | 'OWNER'
  | 'VIEWER';

export type Sentiment =
  | 'ANNOYED'
  | 'CONFUSED'
  | 'CURIOUS'
  | 'DISAPPOINTED'
  | 'DISTRUSTFUL'
  | 'NEUTRAL'
  | 'POSITIVE'
  | 'UNINTERESTED';

export type SettingsInput = {
  /** Bare domain names (example.com), at most 50. */
  allowedLinkDomains?: Array<string> | null | undefined;
  autoReleaseMinutes?: number | null | undefined;
  businessDescription?: string | null | undefined;
  /** Replaces every day's hours; days left out are closed. */
  businessHours?: Array<DayHoursInput> | null | undefined;
  businessName?: string | null | undefined;
  defaultLanguage?: string | null | undefined;
  flowPrompt?: string | null | undefined;
  /** Null goes back to the platform's defaults. */
  followupPolicy?: FollowupPolicyInput | null | undefined;
  /** Replaces every override; stages left out use the default. */
  llmModels?: Array<StageModelInput> | null | undefined;
  name?: string | null | undefined;
  notifyCustomerOnHandoff?: boolean | null | undefined;
  pauseBotOnAttention?: boolean | null | undefined;
  personaPrompt?: string | null | undefined;
  /** Null removes quiet hours. */
  quietHours?: TimeRangeInput | null | undefined;
  replyWordLimit?: number | null | undefined;
  timezone?: string | null | undefined;
};

export type StageModelInput = {
  model: string;
  stage: string;
};

export type TemplateButtonInput = {
  example?: string | null | undefined;
  phoneNumber?: string | null | undefined;
  text: string;
  type: TemplateButtonType;
  url?: string | null | undefined;
};

export type TemplateButtonType =
  | 'PHONE_NUMBER'
  | 'QUICK_REPLY'
  | 'URL';

export type TemplateCategory =
  | 'AUTHENTICATION'
  | 'MARKETING'
  | 'UTILITY';

export type TemplateContentInput = {
  body: string;
  bodyExamples?: Array<string> | null | undefined;
  bodyNamedExamples?: Array<NamedExampleInput> | null | undefined;
  buttons?: Array<TemplateButtonInput>;
  footer?: string | null | undefined;
  header?: TemplateHeaderInput | null | undefined;
};

export type TemplateCreateInput = {
  category: TemplateCategory;
  content: TemplateContentInput;
  language: string;
  name: string;
  parameterFormat?: TemplateParameterFormat;
  purpose?: TemplatePurpose | null | undefined;
};

export type TemplateHeaderFormat =
  | 'DOCUMENT'
  | 'IMAGE'
  | 'TEXT'
  | 'VIDEO';

export type TemplateHeaderInput = {
  examples?: Array<string>;
  format?: TemplateHeaderFormat;
  text?: string | null | undefined;
};

export type TemplateParameterFormat =
  | 'NAMED'
  | 'POSITIONAL';

export type TemplatePurpose =
  | 'CTA'
  | 'CUSTOM'
  | 'FOLLOWUP'
  | 'HANDOFF'
  | 'REENGAGEMENT';

export type TemplateStatus =
  | 'APPROVED'
  | 'ARCHIVED'
  | 'DELETED'
  | 'DISABLED'
  | 'DRAFT'
  | 'FLAGGED'
  | 'IN_APPEAL'
  | 'LIMIT_EXCEEDED'
  | 'PAUSED'
  | 'PENDING'
  | 'PENDING_DELETION'
  | 'REJECTED';

export type TemplateUpdateInput = {
  category?: TemplateCategory | null | undefined;
  content?: TemplateContentInput | null | undefined;
  parameterFormat?: TemplateParameterFormat | null | undefined;
  purpose?: TemplatePurpose | null | undefined;
};

export type TimeRangeInput = {
  end: string;
  start: string;
};

/** Fields left out are unchanged. */
export type UpdateChannelInput = {
  /** Checked with Meta before it replaces the stored one. */
  accessToken?: string | null | undefined;
  name?: string | null | undefined;
  verifyToken?: string | null | undefined;
};

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { me: { role: Role, isPlatformAdmin: boolean, user: { id: string, name: string, email: string }, organisation: { id: string, name: string, slug: string, timezone: string } } };

export type ConversationListFieldsFragment = { id: string, mode: ConversationMode, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, needsAttention: boolean, attentionReason: string | null, attentionRaisedAt: string | null, lastMessageAt: string | null, lastMessagePreview: string | null, windowOpen: boolean, windowExpiresAt: string | null, unreadCount: number, lead: { id: string, name: string | null, waId: string | null, optedOut: boolean } | null, assignedTo: { id: string, name: string } | null, lastMessage: { id: string, direction: MessageDirection, author: MessageAuthor, status: MessageStatus } | null };

export type InboxQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  filter?: ConversationFilter | null | undefined;
}>;


export type InboxQuery = { conversations: { edges: Array<{ cursor: string, node: { id: string, mode: ConversationMode, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, needsAttention: boolean, attentionReason: string | null, attentionRaisedAt: string | null, lastMessageAt: string | null, lastMessagePreview: string | null, windowOpen: boolean, windowExpiresAt: string | null, unreadCount: number, lead: { id: string, name: string | null, waId: string | null, optedOut: boolean } | null, assignedTo: { id: string, name: string } | null, lastMessage: { id: string, direction: MessageDirection, author: MessageAuthor, status: MessageStatus } | null } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type MessageFieldsFragment = { id: string, conversationId: string, direction: MessageDirection, author: MessageAuthor, type: MessageKind, text: string | null, status: MessageStatus, createdAt: string, sentAt: string | null, deliveredAt: string | null, readAt: string | null, failedAt: string | null, errorCode: number | null, errorTitle: string | null, media: { mimeType: string | null, caption: string | null, filename: string | null, sizeBytes: number | null, url: string | null } | null, interactive: { kind: string, body: string | null, options: Array<string>, url: string | null, urlLabel: string | null } | null, template: { name: string, language: string | null, parameters: Array<string> } | null, sentBy: { id: string, name: string } | null, trace: { id: string } | null };

export type ConversationQueryVariables = Exact<{
  id: string;
  first: number;
  after?: string | null | undefined;
}>;


export type ConversationQuery = { conversation: { humanSince: string | null, autoReleaseAt: string | null, closedAt: string | null, createdAt: string, id: string, mode: ConversationMode, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, needsAttention: boolean, attentionReason: string | null, attentionRaisedAt: string | null, lastMessageAt: string | null, lastMessagePreview: string | null, windowOpen: boolean, windowExpiresAt: string | null, unreadCount: number, lead: { id: string, name: string | null, waId: string | null, optedOut: boolean, language: string | null, tags: Array<string> } | null, messages: { edges: Array<{ cursor: string, node: { id: string, conversationId: string, direction: MessageDirection, author: MessageAuthor, type: MessageKind, text: string | null, status: MessageStatus, createdAt: string, sentAt: string | null, deliveredAt: string | null, readAt: string | null, failedAt: string | null, errorCode: number | null, errorTitle: string | null, media: { mimeType: string | null, caption: string | null, filename: string | null, sizeBytes: number | null, url: string | null } | null, interactive: { kind: string, body: string | null, options: Array<string>, url: string | null, urlLabel: string | null } | null, template: { name: string, language: string | null, parameters: Array<string> } | null, sentBy: { id: string, name: string } | null, trace: { id: string } | null } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } }, assignedTo: { id: string, name: string } | null, lastMessage: { id: string, direction: MessageDirection, author: MessageAuthor, status: MessageStatus } | null } | null };

export type TraceQueryVariables = Exact<{
  id: string;
}>;


export type TraceQuery = { message: { id: string, text: string | null, trace: { id: string, status: PipelineRunStatus, provider: string, isOffline: boolean, startedAt: string, finishedAt: string | null, latencyMs: number | null, inputTokens: number, outputTokens: number, costUsd: number, decision: any, error: string | null, knowledgeUsed: any, steps: Array<{ stage: PipelineStage, attempt: number, model: string | null, promptVersion: string | null, latencyMs: number | null, inputTokens: number, outputTokens: number, output: any, error: string | null, overrides: any }> } | null } | null };

export type MembersQueryVariables = Exact<{ [key: string]: never; }>;


export type MembersQuery = { users: Array<{ id: string, name: string, email: string, role: Role, isActive: boolean }> };

type ActionResult_ConflictError_Fragment = { __typename: 'ConflictError', message: string, code: string };

type ActionResult_Conversation_Fragment = { __typename: 'Conversation', humanSince: string | null, autoReleaseAt: string | null, closedAt: string | null, id: string, mode: ConversationMode, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, needsAttention: boolean, attentionReason: string | null, attentionRaisedAt: string | null, lastMessageAt: string | null, lastMessagePreview: string | null, windowOpen: boolean, windowExpiresAt: string | null, unreadCount: number, lead: { id: string, name: string | null, waId: string | null, optedOut: boolean } | null, assignedTo: { id: string, name: string } | null, lastMessage: { id: string, direction: MessageDirection, author: MessageAuthor, status: MessageStatus } | null };

type ActionResult_ForbiddenError_Fragment = { __typename: 'ForbiddenError', message: string, code: string };

type ActionResult_NotFoundError_Fragment = { __typename: 'NotFoundError', message: string, code: string };

type ActionResult_ValidationError_Fragment = { __typename: 'ValidationError', message: string, code: string };

export type ActionResultFragment =
  | ActionResult_ConflictError_Fragment
  | ActionResult_Conversation_Fragment
  | ActionResult_ForbiddenError_Fragment
  | ActionResult_NotFoundError_Fragment
  | ActionResult_ValidationError_Fragment
;

export type TakeoverMutationVariables = Exact<{
  id: string;
}>;


export type TakeoverMutation = { takeover:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'Conversation', humanSince: string | null, autoReleaseAt: string | null, closedAt: string | null, id: string, mode: ConversationMode, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, needsAttention: boolean, attentionReason: string | null, attentionRaisedAt: string | null, lastMessageAt: string | null, lastMessagePreview: string | null, windowOpen: boolean, windowExpiresAt: string | null, unreadCount: number, lead: { id: string, name: string | null, waId: string | null, optedOut: boolean } | null, assignedTo: { id: string, name: string } | null, lastMessage: { id: string, direction: MessageDirection, author: MessageAuthor, status: MessageStatus } | null }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type ReleaseMutationVariables = Exact<{
  id: string;
}>;


export type ReleaseMutation = { release:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'Conversation', humanSince: string | null, autoReleaseAt: string | null, closedAt: string | null, id: string, mode: ConversationMode, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, needsAttention: boolean, attentionReason: string | null, attentionRaisedAt: string | null, lastMessageAt: string | null, lastMessagePreview: string | null, windowOpen: boolean, windowExpiresAt: string | null, unreadCount: number, lead: { id: string, name: string | null, waId: string | null, optedOut: boolean } | null, assignedTo: { id: string, name: string } | null, lastMessage: { id: string, direction: MessageDirection, author: MessageAuthor, status: MessageStatus } | null }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type AssignMutationVariables = Exact<{
  id: string;
  userId?: string | null | undefined;
}>;


export type AssignMutation = { assign:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'Conversation', humanSince: string | null, autoReleaseAt: string | null, closedAt: string | null, id: string, mode: ConversationMode, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, needsAttention: boolean, attentionReason: string | null, attentionRaisedAt: string | null, lastMessageAt: string | null, lastMessagePreview: string | null, windowOpen: boolean, windowExpiresAt: string | null, unreadCount: number, lead: { id: string, name: string | null, waId: string | null, optedOut: boolean } | null, assignedTo: { id: string, name: string } | null, lastMessage: { id: string, direction: MessageDirection, author: MessageAuthor, status: MessageStatus } | null }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type CloseMutationVariables = Exact<{
  id: string;
}>;


export type CloseMutation = { close:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'Conversation', humanSince: string | null, autoReleaseAt: string | null, closedAt: string | null, id: string, mode: ConversationMode, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, needsAttention: boolean, attentionReason: string | null, attentionRaisedAt: string | null, lastMessageAt: string | null, lastMessagePreview: string | null, windowOpen: boolean, windowExpiresAt: string | null, unreadCount: number, lead: { id: string, name: string | null, waId: string | null, optedOut: boolean } | null, assignedTo: { id: string, name: string } | null, lastMessage: { id: string, direction: MessageDirection, author: MessageAuthor, status: MessageStatus } | null }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type ResolveAttentionMutationVariables = Exact<{
  id: string;
}>;


export type ResolveAttentionMutation = { resolveAttention:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'Conversation', humanSince: string | null, autoReleaseAt: string | null, closedAt: string | null, id: string, mode: ConversationMode, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, needsAttention: boolean, attentionReason: string | null, attentionRaisedAt: string | null, lastMessageAt: string | null, lastMessagePreview: string | null, windowOpen: boolean, windowExpiresAt: string | null, unreadCount: number, lead: { id: string, name: string | null, waId: string | null, optedOut: boolean } | null, assignedTo: { id: string, name: string } | null, lastMessage: { id: string, direction: MessageDirection, author: MessageAuthor, status: MessageStatus } | null }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type StartFollowupsMutationVariables = Exact<{
  id: string;
  sequenceId: string;
}>;


export type StartFollowupsMutation = { startFollowups:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'Conversation', humanSince: string | null, autoReleaseAt: string | null, closedAt: string | null, id: string, mode: ConversationMode, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, needsAttention: boolean, attentionReason: string | null, attentionRaisedAt: string | null, lastMessageAt: string | null, lastMessagePreview: string | null, windowOpen: boolean, windowExpiresAt: string | null, unreadCount: number, lead: { id: string, name: string | null, waId: string | null, optedOut: boolean } | null, assignedTo: { id: string, name: string } | null, lastMessage: { id: string, direction: MessageDirection, author: MessageAuthor, status: MessageStatus } | null }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type StartableSequencesQueryVariables = Exact<{ [key: string]: never; }>;


export type StartableSequencesQuery = { followupSequences: Array<{ id: string, name: string, trigger: FollowupTrigger, isActive: boolean }> };

export type MarkConversationReadMutationVariables = Exact<{
  id: string;
}>;


export type MarkConversationReadMutation = { markConversationRead:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'Conversation', id: string, unreadCount: number }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type QuickRepliesQueryVariables = Exact<{ [key: string]: never; }>;


export type QuickRepliesQuery = { quickReplies: Array<{ id: string, title: string, text: string }> };

type QuickReplyResult_ConflictError_Fragment = { __typename: 'ConflictError', message: string, code: string };

type QuickReplyResult_ForbiddenError_Fragment = { __typename: 'ForbiddenError', message: string, code: string };

type QuickReplyResult_LimitError_Fragment = { __typename: 'LimitError', message: string, code: string, problems: Array<{ field: string | null, message: string }> };

type QuickReplyResult_NotFoundError_Fragment = { __typename: 'NotFoundError', message: string, code: string };

type QuickReplyResult_QuickReply_Fragment = { __typename: 'QuickReply', id: string, title: string, text: string };

type QuickReplyResult_ValidationError_Fragment = { __typename: 'ValidationError', message: string, code: string };

export type QuickReplyResultFragment =
  | QuickReplyResult_ConflictError_Fragment
  | QuickReplyResult_ForbiddenError_Fragment
  | QuickReplyResult_LimitError_Fragment
  | QuickReplyResult_NotFoundError_Fragment
  | QuickReplyResult_QuickReply_Fragment
  | QuickReplyResult_ValidationError_Fragment
;

export type CreateQuickReplyMutationVariables = Exact<{
  input: QuickReplyInput;
}>;


export type CreateQuickReplyMutation = { createQuickReply:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'LimitError', message: string, code: string, problems: Array<{ field: string | null, message: string }> }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'QuickReply', id: string, title: string, text: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type UpdateQuickReplyMutationVariables = Exact<{
  id: string;
  input: QuickReplyUpdateInput;
}>;


export type UpdateQuickReplyMutation = { updateQuickReply:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'LimitError', message: string, code: string, problems: Array<{ field: string | null, message: string }> }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'QuickReply', id: string, title: string, text: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type DeleteQuickReplyMutationVariables = Exact<{
  id: string;
}>;


export type DeleteQuickReplyMutation = { deleteQuickReply:
    | { __typename: 'Deleted', id: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
   };

export type SendMessageMutationVariables = Exact<{
  conversationId: string;
  text?: string | null | undefined;
  buttons?: Array<ReplyButtonInput> | ReplyButtonInput | null | undefined;
  templateId?: string | null | undefined;
  templateParameters?: Array<string> | string | null | undefined;
  idempotencyKey?: string | null | undefined;
}>;


export type SendMessageMutation = { sendMessage:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'MessageQueued', verdict: string, queued: { id: string, conversationId: string, direction: MessageDirection, author: MessageAuthor, type: MessageKind, text: string | null, status: MessageStatus, createdAt: string, sentAt: string | null, deliveredAt: string | null, readAt: string | null, failedAt: string | null, errorCode: number | null, errorTitle: string | null, media: { mimeType: string | null, caption: string | null, filename: string | null, sizeBytes: number | null, url: string | null } | null, interactive: { kind: string, body: string | null, options: Array<string>, url: string | null, urlLabel: string | null } | null, template: { name: string, language: string | null, parameters: Array<string> } | null, sentBy: { id: string, name: string } | null, trace: { id: string } | null } }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'OptedOut', message: string }
    | { __typename: 'ValidationProblem', message: string, field: string | null }
    | { __typename: 'WindowClosed', message: string }
   };

export type MessageCreatedSubscriptionVariables = Exact<{
  conversationId?: string | null | undefined;
}>;


export type MessageCreatedSubscription = { messageCreated: { conversationId: string, messageIds: Array<string>, leadId: string | null } };

export type MessageStatusSubscriptionVariables = Exact<{
  conversationId?: string | null | undefined;
}>;


export type MessageStatusSubscription = { messageStatusChanged: { conversationId: string, messageIds: Array<string> } };

export type ConversationUpdatedSubscriptionVariables = Exact<{
  conversationId?: string | null | undefined;
}>;


export type ConversationUpdatedSubscription = { conversationUpdated: { type: string, conversationId: string | null, messageId: string | null, leadId: string | null } };

export type AttentionChangedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type AttentionChangedSubscription = { attentionQueueChanged: { conversationId: string } };

export type DashboardQueryVariables = Exact<{
  dateFrom?: string | null | undefined;
  dateTo?: string | null | undefined;
}>;


export type DashboardQuery = { dashboard: { conversations: number, activeLeads: number, highIntentLeads: number, medianFirstResponseSeconds: number | null, aiHandledShare: number | null, range: { dateFrom: string, dateTo: string, timezone: string }, messagesByAuthor: Array<{ author: string, count: number }>, attention: { count: number, oldestRaisedAt: string | null } }, analytics: { handoffRate: number | null, funnel: Array<{ stage: string, reached: number, conversionFromPrevious: number | null }>, llm: { runs: number, inputTokens: number, outputTokens: number, costUsd: number }, series: Array<{ day: string, newConversations: number, inboundMessages: number, outboundMessages: number }> } };

export type ApprovedTemplatesQueryVariables = Exact<{ [key: string]: never; }>;


export type ApprovedTemplatesQuery = { templates: Array<{ id: string, name: string, language: string, category: TemplateCategory, status: TemplateStatus, components: Array<any> }> };

export type SimulateCustomerMessageMutationVariables = Exact<{
  text: string;
  fromWaId: string;
  name?: string | null | undefined;
  withConversation?: boolean | null | undefined;
}>;


export type SimulateCustomerMessageMutation = { simulateCustomerMessage:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'LimitError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'SimulatedMessage', wamid: string, channelId: string, conversationId?: string | null }
    | { __typename: 'UpstreamError', message: string, code: string }
   };

export type AnalyticsPageQueryVariables = Exact<{
  dateFrom?: string | null | undefined;
  dateTo?: string | null | undefined;
  timezone?: string | null | undefined;
}>;


export type AnalyticsPageQuery = { analytics: { handoffRate: number | null, aiShare: number | null, humanShare: number | null, range: { dateFrom: string, dateTo: string, timezone: string }, funnel: Array<{ stage: string, reached: number, conversionFromPrevious: number | null }>, responseTimes: { p50Seconds: number | null, p90Seconds: number | null }, cta: { offered: number, accepted: number, completed: number }, followups: { sent: number, repliedWithin24h: number, replyRate: number | null }, llm: { runs: number, inputTokens: number, outputTokens: number, costUsd: number }, series: Array<{ day: string, newConversations: number, inboundMessages: number, outboundMessages: number, llmInputTokens: number, llmOutputTokens: number, llmCostUsd: number }> } };

export type CtaFieldsFragment = { id: string, type: CtaType, name: string, description: string | null, url: string | null, buttonText: string | null, payload: any, isActive: boolean, createdAt: string, updatedAt: string };

export type CtasQueryVariables = Exact<{ [key: string]: never; }>;


export type CtasQuery = { ctas: Array<{ id: string, type: CtaType, name: string, description: string | null, url: string | null, buttonText: string | null, payload: any, isActive: boolean, createdAt: string, updatedAt: string }> };

export type CreateCtaMutationVariables = Exact<{
  input: CtaCreateInput;
}>;


export type CreateCtaMutation = { createCta:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'Cta', id: string, type: CtaType, name: string, description: string | null, url: string | null, buttonText: string | null, payload: any, isActive: boolean, createdAt: string, updatedAt: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'LimitError', message: string, code: string, problems: Array<{ field: string | null, message: string }> }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type UpdateCtaMutationVariables = Exact<{
  id: string;
  input: CtaUpdateInput;
}>;


export type UpdateCtaMutation = { updateCta:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'Cta', id: string, type: CtaType, name: string, description: string | null, url: string | null, buttonText: string | null, payload: any, isActive: boolean, createdAt: string, updatedAt: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'LimitError', message: string, code: string, problems: Array<{ field: string | null, message: string }> }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type SetCtaActiveMutationVariables = Exact<{
  id: string;
  active: boolean;
}>;


export type SetCtaActiveMutation = { setCtaActive:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'Cta', id: string, type: CtaType, name: string, description: string | null, url: string | null, buttonText: string | null, payload: any, isActive: boolean, createdAt: string, updatedAt: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'LimitError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type DeleteCtaMutationVariables = Exact<{
  id: string;
}>;


export type DeleteCtaMutation = { deleteCta:
    | { __typename: 'Deleted', id: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
   };

export type FollowupSequenceFieldsFragment = { id: string, name: string, trigger: FollowupTrigger, isActive: boolean, createdAt: string, updatedAt: string, steps: Array<{ position: number, delayMinutes: number, messageHint: string | null, templateId: string | null }> };

export type FollowupSequencesQueryVariables = Exact<{ [key: string]: never; }>;


export type FollowupSequencesQuery = { followupSequences: Array<{ id: string, name: string, trigger: FollowupTrigger, isActive: boolean, createdAt: string, updatedAt: string, steps: Array<{ position: number, delayMinutes: number, messageHint: string | null, templateId: string | null }> }> };

export type FollowupSequenceQueryVariables = Exact<{
  id: string;
}>;


export type FollowupSequenceQuery = { followupSequence: { id: string, name: string, trigger: FollowupTrigger, isActive: boolean, createdAt: string, updatedAt: string, steps: Array<{ position: number, delayMinutes: number, messageHint: string | null, templateId: string | null }> } | null };

export type FollowupTemplatesQueryVariables = Exact<{ [key: string]: never; }>;


export type FollowupTemplatesQuery = { templates: Array<{ id: string, name: string, language: string, status: TemplateStatus }> };

export type CreateFollowupSequenceMutationVariables = Exact<{
  input: FollowupSequenceInput;
}>;


export type CreateFollowupSequenceMutation = { createFollowupSequence:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'FollowupSequence', id: string, name: string, trigger: FollowupTrigger, isActive: boolean, createdAt: string, updatedAt: string, steps: Array<{ position: number, delayMinutes: number, messageHint: string | null, templateId: string | null }> }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'LimitError', message: string, code: string, problems: Array<{ field: string | null, message: string }> }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type ReplaceFollowupSequenceMutationVariables = Exact<{
  id: string;
  input: FollowupSequenceInput;
}>;


export type ReplaceFollowupSequenceMutation = { replaceFollowupSequence:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'FollowupSequence', id: string, name: string, trigger: FollowupTrigger, isActive: boolean, createdAt: string, updatedAt: string, steps: Array<{ position: number, delayMinutes: number, messageHint: string | null, templateId: string | null }> }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'LimitError', message: string, code: string, problems: Array<{ field: string | null, message: string }> }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type DeleteFollowupSequenceMutationVariables = Exact<{
  id: string;
}>;


export type DeleteFollowupSequenceMutation = { deleteFollowupSequence:
    | { __typename: 'Deleted', id: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
   };

export type KnowledgeDocumentsQueryVariables = Exact<{ [key: string]: never; }>;


export type KnowledgeDocumentsQuery = { knowledgeDocuments: Array<{ id: string, title: string, filename: string | null, docType: KnowledgeDocumentType, sizeBytes: number, status: KnowledgeDocumentStatus, progress: number, chunkCount: number, error: string | null, createdAt: string, processedAt: string | null }> };

export type KnowledgeSearchQueryVariables = Exact<{
  query: string;
  topK: number;
}>;


export type KnowledgeSearchQuery = { knowledgeSearch: { grounded: boolean, threshold: number, hits: Array<{ chunkId: string, documentId: string, title: string, content: string, page: number | null, score: number }> } };

export type DeleteKnowledgeDocumentMutationVariables = Exact<{
  id: string;
}>;


export type DeleteKnowledgeDocumentMutation = { deleteKnowledgeDocument:
    | { __typename: 'Deleted', id: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
   };

export type KnowledgeDocumentUpdatedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type KnowledgeDocumentUpdatedSubscription = { knowledgeDocumentUpdated: { documentId: string, status: KnowledgeDocumentStatus, progress: number } };

export type LeadFieldsFragment = { id: string, name: string | null, waId: string | null, email: string | null, company: string | null, language: string | null, tags: Array<string>, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, optedOut: boolean, optedOutAt: string | null, lastInboundAt: string | null, createdAt: string };

export type LeadsQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  filter?: LeadFilter | null | undefined;
}>;


export type LeadsQuery = { leads: { edges: Array<{ cursor: string, node: { id: string, name: string | null, waId: string | null, email: string | null, company: string | null, language: string | null, tags: Array<string>, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, optedOut: boolean, optedOutAt: string | null, lastInboundAt: string | null, createdAt: string } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type LeadDetailQueryVariables = Exact<{
  id: string;
}>;


export type LeadDetailQuery = { lead: { lead: { id: string, name: string | null, waId: string | null, email: string | null, company: string | null, language: string | null, tags: Array<string>, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, optedOut: boolean, optedOutAt: string | null, lastInboundAt: string | null, createdAt: string }, conversations: { edges: Array<{ node: { id: string, mode: ConversationMode, stage: ConversationStage, needsAttention: boolean, lastMessageAt: string | null, lastMessagePreview: string | null, createdAt: string, closedAt: string | null } }> }, notes: Array<{ id: string, body: string, authorUserId: string | null, createdAt: string }> } | null, users: Array<{ id: string, name: string }> };

export type TagLeadMutationVariables = Exact<{
  id: string;
  add?: Array<string> | string | null | undefined;
  remove?: Array<string> | string | null | undefined;
}>;


export type TagLeadMutation = { tagLead:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'Lead', id: string, name: string | null, waId: string | null, email: string | null, company: string | null, language: string | null, tags: Array<string>, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, optedOut: boolean, optedOutAt: string | null, lastInboundAt: string | null, createdAt: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type AddLeadNoteMutationVariables = Exact<{
  id: string;
  body: string;
}>;


export type AddLeadNoteMutation = { addLeadNote:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'Note', id: string, body: string, authorUserId: string | null, createdAt: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type OptOutLeadMutationVariables = Exact<{
  id: string;
}>;


export type OptOutLeadMutation = { optOutLead:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'Lead', id: string, name: string | null, waId: string | null, email: string | null, company: string | null, language: string | null, tags: Array<string>, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, optedOut: boolean, optedOutAt: string | null, lastInboundAt: string | null, createdAt: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type EraseLeadMutationVariables = Exact<{
  id: string;
}>;


export type EraseLeadMutation = { eraseLead:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'Erased', leadId: string, conversations: number, messages: number }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type UpdateLeadMutationVariables = Exact<{
  id: string;
  input: LeadInput;
}>;


export type UpdateLeadMutation = { updateLead:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'Lead', id: string, name: string | null, waId: string | null, email: string | null, company: string | null, language: string | null, tags: Array<string>, stage: ConversationStage, intentLevel: IntentLevel, sentiment: Sentiment, optedOut: boolean, optedOutAt: string | null, lastInboundAt: string | null, createdAt: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type LeadsLiveSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type LeadsLiveSubscription = { messageCreated: { conversationId: string, leadId: string | null } };

export type SettingsFieldsFragment = { name: string, businessName: string | null, businessDescription: string | null, personaPrompt: string | null, flowPrompt: string | null, timezone: string, defaultLanguage: string, replyWordLimit: number, pauseBotOnAttention: boolean, notifyCustomerOnHandoff: boolean, autoReleaseMinutes: number, allowedLinkDomains: Array<string>, businessHours: Array<{ day: string, ranges: Array<{ start: string, end: string }> }>, quietHours: { start: string, end: string } | null, followupPolicy: { maxPer24h: number, maxTotal: number, minGapMinutes: number } | null, llmModels: Array<{ stage: string, model: string }> };

export type SettingsPageQueryVariables = Exact<{ [key: string]: never; }>;


export type SettingsPageQuery = { settings: { name: string, businessName: string | null, businessDescription: string | null, personaPrompt: string | null, flowPrompt: string | null, timezone: string, defaultLanguage: string, replyWordLimit: number, pauseBotOnAttention: boolean, notifyCustomerOnHandoff: boolean, autoReleaseMinutes: number, allowedLinkDomains: Array<string>, businessHours: Array<{ day: string, ranges: Array<{ start: string, end: string }> }>, quietHours: { start: string, end: string } | null, followupPolicy: { maxPer24h: number, maxTotal: number, minGapMinutes: number } | null, llmModels: Array<{ stage: string, model: string }> }, organisation: { id: string, slug: string } };

export type UpdateSettingsMutationVariables = Exact<{
  input: SettingsInput;
}>;


export type UpdateSettingsMutation = { updateSettings:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'Settings', name: string, businessName: string | null, businessDescription: string | null, personaPrompt: string | null, flowPrompt: string | null, timezone: string, defaultLanguage: string, replyWordLimit: number, pauseBotOnAttention: boolean, notifyCustomerOnHandoff: boolean, autoReleaseMinutes: number, allowedLinkDomains: Array<string>, businessHours: Array<{ day: string, ranges: Array<{ start: string, end: string }> }>, quietHours: { start: string, end: string } | null, followupPolicy: { maxPer24h: number, maxTotal: number, minGapMinutes: number } | null, llmModels: Array<{ stage: string, model: string }> }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type SettingsMembersQueryVariables = Exact<{ [key: string]: never; }>;


export type SettingsMembersQuery = { users: Array<{ id: string, email: string, name: string, role: Role, isActive: boolean, joinedAt: string, lastLoginAt: string | null }> };

export type SettingsInvitationsQueryVariables = Exact<{ [key: string]: never; }>;


export type SettingsInvitationsQuery = { invitations: Array<{ id: string, email: string, role: Role, expiresAt: string, invitedBy: { id: string, name: string } | null }> };

export type InviteUserMutationVariables = Exact<{
  email: string;
  role: Role;
}>;


export type InviteUserMutation = { inviteUser:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'Invitation', id: string, email: string, role: Role, expiresAt: string, acceptToken: string | null }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type ChangeUserRoleMutationVariables = Exact<{
  userId: string;
  role: Role;
}>;


export type ChangeUserRoleMutation = { changeUserRole:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'Member', id: string, role: Role }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type DeactivateUserMutationVariables = Exact<{
  userId: string;
}>;


export type DeactivateUserMutation = { deactivateUser:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'Deactivated', userId: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type RevokeInvitationMutationVariables = Exact<{
  id: string;
}>;


export type RevokeInvitationMutation = { revokeInvitation:
    | { __typename: 'Deleted', id: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
   };

export type ChannelFieldsFragment = { id: string, name: string | null, phoneNumberId: string, wabaId: string, displayPhoneNumber: string | null, graphVersion: string, isConnected: boolean, pausedReason: string | null, accessTokenLast4: string, appSecretLast4: string, appSecretsActive: number, verifyTokenLast4: string, messagesPerSecond: number, updatedAt: string };

export type WhatsAppChannelsQueryVariables = Exact<{ [key: string]: never; }>;


export type WhatsAppChannelsQuery = { settings: { channels: Array<{ id: string, name: string | null, phoneNumberId: string, wabaId: string, displayPhoneNumber: string | null, graphVersion: string, isConnected: boolean, pausedReason: string | null, accessTokenLast4: string, appSecretLast4: string, appSecretsActive: number, verifyTokenLast4: string, messagesPerSecond: number, updatedAt: string }> } };

type ChannelResultFields_Channel_Fragment = { __typename: 'Channel', id: string, name: string | null, phoneNumberId: string, wabaId: string, displayPhoneNumber: string | null, graphVersion: string, isConnected: boolean, pausedReason: string | null, accessTokenLast4: string, appSecretLast4: string, appSecretsActive: number, verifyTokenLast4: string, messagesPerSecond: number, updatedAt: string };

type ChannelResultFields_ConflictError_Fragment = { __typename: 'ConflictError', message: string, code: string };

type ChannelResultFields_CredentialsError_Fragment = { __typename: 'CredentialsError', graphMessage: string | null, message: string, code: string };

type ChannelResultFields_ForbiddenError_Fragment = { __typename: 'ForbiddenError', message: string, code: string };

type ChannelResultFields_NotFoundError_Fragment = { __typename: 'NotFoundError', message: string, code: string };

type ChannelResultFields_UpstreamError_Fragment = { __typename: 'UpstreamError', message: string, code: string };

type ChannelResultFields_ValidationError_Fragment = { __typename: 'ValidationError', message: string, code: string };

export type ChannelResultFieldsFragment =
  | ChannelResultFields_Channel_Fragment
  | ChannelResultFields_ConflictError_Fragment
  | ChannelResultFields_CredentialsError_Fragment
  | ChannelResultFields_ForbiddenError_Fragment
  | ChannelResultFields_NotFoundError_Fragment
  | ChannelResultFields_UpstreamError_Fragment
  | ChannelResultFields_ValidationError_Fragment
;

export type ConnectChannelMutationVariables = Exact<{
  input: ConnectChannelInput;
}>;


export type ConnectChannelMutation = { connectChannel:
    | { __typename: 'Channel', id: string, name: string | null, phoneNumberId: string, wabaId: string, displayPhoneNumber: string | null, graphVersion: string, isConnected: boolean, pausedReason: string | null, accessTokenLast4: string, appSecretLast4: string, appSecretsActive: number, verifyTokenLast4: string, messagesPerSecond: number, updatedAt: string }
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'CredentialsError', graphMessage: string | null, message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'UpstreamError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type UpdateChannelMutationVariables = Exact<{
  id: string;
  input: UpdateChannelInput;
}>;


export type UpdateChannelMutation = { updateChannel:
    | { __typename: 'Channel', id: string, name: string | null, phoneNumberId: string, wabaId: string, displayPhoneNumber: string | null, graphVersion: string, isConnected: boolean, pausedReason: string | null, accessTokenLast4: string, appSecretLast4: string, appSecretsActive: number, verifyTokenLast4: string, messagesPerSecond: number, updatedAt: string }
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'CredentialsError', graphMessage: string | null, message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'UpstreamError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type RotateChannelAppSecretMutationVariables = Exact<{
  id: string;
  appSecret: string;
  keepPrevious: boolean;
}>;


export type RotateChannelAppSecretMutation = { rotateChannelAppSecret:
    | { __typename: 'Channel', id: string, name: string | null, phoneNumberId: string, wabaId: string, displayPhoneNumber: string | null, graphVersion: string, isConnected: boolean, pausedReason: string | null, accessTokenLast4: string, appSecretLast4: string, appSecretsActive: number, verifyTokenLast4: string, messagesPerSecond: number, updatedAt: string }
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'CredentialsError', graphMessage: string | null, message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'UpstreamError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type DisconnectChannelMutationVariables = Exact<{
  id: string;
}>;


export type DisconnectChannelMutation = { disconnectChannel:
    | { __typename: 'Channel', id: string, name: string | null, phoneNumberId: string, wabaId: string, displayPhoneNumber: string | null, graphVersion: string, isConnected: boolean, pausedReason: string | null, accessTokenLast4: string, appSecretLast4: string, appSecretsActive: number, verifyTokenLast4: string, messagesPerSecond: number, updatedAt: string }
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'CredentialsError', graphMessage: string | null, message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'UpstreamError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type TemplateFieldsFragment = { id: string, name: string, language: string, category: TemplateCategory, status: TemplateStatus, parameterFormat: TemplateParameterFormat, purpose: TemplatePurpose | null, components: Array<any>, metaTemplateId: string | null, qualityScore: string | null, rejectionReason: string | null, submittedAt: string | null, approvedAt: string | null, lastSyncedAt: string | null, createdAt: string, updatedAt: string };

export type TemplatesQueryVariables = Exact<{ [key: string]: never; }>;


export type TemplatesQuery = { templates: Array<{ id: string, name: string, language: string, category: TemplateCategory, status: TemplateStatus, parameterFormat: TemplateParameterFormat, purpose: TemplatePurpose | null, components: Array<any>, metaTemplateId: string | null, qualityScore: string | null, rejectionReason: string | null, submittedAt: string | null, approvedAt: string | null, lastSyncedAt: string | null, createdAt: string, updatedAt: string }> };

export type CreateTemplateMutationVariables = Exact<{
  input: TemplateCreateInput;
}>;


export type CreateTemplateMutation = { createTemplate:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'LimitError', message: string, code: string, problems: Array<{ field: string | null, message: string }> }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'Template', id: string, name: string, language: string, category: TemplateCategory, status: TemplateStatus, parameterFormat: TemplateParameterFormat, purpose: TemplatePurpose | null, components: Array<any>, metaTemplateId: string | null, qualityScore: string | null, rejectionReason: string | null, submittedAt: string | null, approvedAt: string | null, lastSyncedAt: string | null, createdAt: string, updatedAt: string }
    | { __typename: 'UpstreamError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type UpdateTemplateMutationVariables = Exact<{
  id: string;
  input: TemplateUpdateInput;
}>;


export type UpdateTemplateMutation = { updateTemplate:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'LimitError', message: string, code: string, problems: Array<{ field: string | null, message: string }> }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'Template', id: string, name: string, language: string, category: TemplateCategory, status: TemplateStatus, parameterFormat: TemplateParameterFormat, purpose: TemplatePurpose | null, components: Array<any>, metaTemplateId: string | null, qualityScore: string | null, rejectionReason: string | null, submittedAt: string | null, approvedAt: string | null, lastSyncedAt: string | null, createdAt: string, updatedAt: string }
    | { __typename: 'UpstreamError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type SubmitTemplateMutationVariables = Exact<{
  id: string;
}>;


export type SubmitTemplateMutation = { submitTemplate:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'LimitError', message: string, code: string, problems: Array<{ field: string | null, message: string }> }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'Template', id: string, name: string, language: string, category: TemplateCategory, status: TemplateStatus, parameterFormat: TemplateParameterFormat, purpose: TemplatePurpose | null, components: Array<any>, metaTemplateId: string | null, qualityScore: string | null, rejectionReason: string | null, submittedAt: string | null, approvedAt: string | null, lastSyncedAt: string | null, createdAt: string, updatedAt: string }
    | { __typename: 'UpstreamError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type ResubmitTemplateMutationVariables = Exact<{
  id: string;
}>;


export type ResubmitTemplateMutation = { resubmitTemplate:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'LimitError', message: string, code: string, problems: Array<{ field: string | null, message: string }> }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'Template', id: string, name: string, language: string, category: TemplateCategory, status: TemplateStatus, parameterFormat: TemplateParameterFormat, purpose: TemplatePurpose | null, components: Array<any>, metaTemplateId: string | null, qualityScore: string | null, rejectionReason: string | null, submittedAt: string | null, approvedAt: string | null, lastSyncedAt: string | null, createdAt: string, updatedAt: string }
    | { __typename: 'UpstreamError', message: string, code: string }
    | { __typename: 'ValidationError', message: string, code: string }
   };

export type SyncTemplatesMutationVariables = Exact<{ [key: string]: never; }>;


export type SyncTemplatesMutation = { syncTemplates:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'TemplateSyncReport', updated: number, imported: number }
    | { __typename: 'UpstreamError', message: string, code: string }
   };

export type DeleteTemplateMutationVariables = Exact<{
  id: string;
  confirm: boolean;
}>;


export type DeleteTemplateMutation = { deleteTemplate:
    | { __typename: 'ConflictError', message: string, code: string }
    | { __typename: 'Deleted', id: string }
    | { __typename: 'ForbiddenError', message: string, code: string }
    | { __typename: 'NotFoundError', message: string, code: string }
    | { __typename: 'UpstreamError', message: string, code: string }
   };

export type TemplateStatusChangedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type TemplateStatusChangedSubscription = { templateStatusChanged: { templateId: string, status: TemplateStatus } };
