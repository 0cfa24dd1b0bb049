import { gql } from "urql";

// The settings page's GraphQL operations (types in ../../gql/generated.ts via `npm run codegen`).

export const SettingsFields = gql`
  fragment SettingsFields on Settings {
    name
    businessName
    businessDescription
    personaPrompt
    flowPrompt
    timezone
    defaultLanguage
    replyWordLimit
    pauseBotOnAttention
    notifyCustomerOnHandoff
    autoReleaseMinutes
    businessHours { day ranges { start end } }
    quietHours { start end }
    followupPolicy { maxPer24h maxTotal minGapMinutes }
    llmModels { stage model }
    allowedLinkDomains
  }
`;

export const SettingsPageQuery = gql`
  query SettingsPage {
    settings { ...SettingsFields }
    organisation { id slug }
  }
  ${SettingsFields}
`;

export const UpdateSettingsMutation = gql`
  mutation UpdateSettings($input: SettingsInput!) {
    updateSettings(input: $input) {
      __typename
      ... on Settings { ...SettingsFields }
      ... on UserError { message code }
    }
  }
  ${SettingsFields}
`;

export const SettingsMembersQuery = gql`
  query SettingsMembers {
    users { id email name role isActive joinedAt lastLoginAt }
  }
`;

export const SettingsInvitationsQuery = gql`
  query SettingsInvitations {
    invitations { id email role expiresAt invitedBy { id name } }
  }
`;

export const InviteUserMutation = gql`
  mutation InviteUser($email: String!, $role: Role!) {
    inviteUser(email: $email, role: $role) {
      __typename
      ... on Invitation { id email role expiresAt acceptToken }
      ... on UserError { message code }
    }
  }
`;

export const ChangeUserRoleMutation = gql`
  mutation ChangeUserRole($userId: ID!, $role: Role!) {
    changeUserRole(userId: $userId, role: $role) {
      __typename
      ... on Member { id role }
      ... on UserError { message code }
    }
  }
`;

export const DeactivateUserMutation = gql`
  mutation DeactivateUser($userId: ID!) {
    deactivateUser(userId: $userId) {
      __typename
      ... on Deactivated { userId }
      ... on UserError { message code }
    }
  }
`;

export const RevokeInvitationMutation = gql`
  mutation RevokeInvitation($id: ID!) {
    revokeInvitation(id: $id) {
      __typename
      ... on Deleted { id }
      ... on UserError { message code }
    }
  }
`;

export const ChannelFields = gql`
  fragment ChannelFields on Channel {
    id name phoneNumberId wabaId displayPhoneNumber graphVersion isConnected pausedReason
    accessTokenLast4 appSecretLast4 appSecretsActive verifyTokenLast4 messagesPerSecond updatedAt
  }
`;

export const WhatsAppChannelsQuery = gql`
  query WhatsAppChannels {
    settings { channels { ...ChannelFields } }
  }
  ${ChannelFields}
`;

// Every channel mutation answers with the channel or a typed error; CredentialsError carries
// Meta's own explanation of a refused token.
export const ChannelResultFields = gql`
  fragment ChannelResultFields on ChannelResult {
    __typename
    ... on Channel { ...ChannelFields }
    ... on CredentialsError { graphMessage }
    ... on UserError { message code }
  }
  ${ChannelFields}
`;

export const ConnectChannelMutation = gql`
  mutation ConnectChannel($input: ConnectChannelInput!) {
    connectChannel(input: $input) { ...ChannelResultFields }
  }
  ${ChannelResultFields}
`;

export const UpdateChannelMutation = gql`
  mutation UpdateChannel($id: ID!, $input: UpdateChannelInput!) {
    updateChannel(id: $id, input: $input) { ...ChannelResultFields }
  }
  ${ChannelResultFields}
`;

export const RotateChannelAppSecretMutation = gql`
  mutation RotateChannelAppSecret($id: ID!, $appSecret: String!, $keepPrevious: Boolean!) {
    rotateChannelAppSecret(id: $id, appSecret: $appSecret, keepPrevious: $keepPrevious) { ...ChannelResultFields }
  }
  ${ChannelResultFields}
`;

export const DisconnectChannelMutation = gql`
  mutation DisconnectChannel($id: ID!) {
    disconnectChannel(id: $id) { ...ChannelResultFields }
  }
  ${ChannelResultFields}
`;
