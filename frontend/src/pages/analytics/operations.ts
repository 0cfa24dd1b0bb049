import { gql } from "urql";

// The analytics page's GraphQL operations (types in ../../gql/generated.ts via `npm run codegen`).

export const AnalyticsPageQuery = gql`
  query AnalyticsPage($dateFrom: Date, $dateTo: Date, $timezone: String) {
    analytics(dateFrom: $dateFrom, dateTo: $dateTo, timezone: $timezone) {
      range { dateFrom dateTo timezone }
      funnel { stage reached conversionFromPrevious }
      responseTimes { p50Seconds p90Seconds }
      handoffRate
      aiShare
      humanShare
      cta { offered accepted completed }
      followups { sent repliedWithin24h replyRate }
      llm { runs inputTokens outputTokens costUsd }
      series { day newConversations inboundMessages outboundMessages llmInputTokens llmOutputTokens llmCostUsd }
    }
  }
`;
