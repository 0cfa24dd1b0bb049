// GraphQL mutations answer with a union: the object asked for, or a typed user error
// (NotFoundError, LimitError with per-field problems, ...). These read such an answer.

export interface UnionAnswer {
  __typename?: string;
  message?: string;
  problems?: ReadonlyArray<{ field: string | null; message: string }>;
}

/** The error text of a union answer, or null when it is the expected type. */
export function failureOf(answer: UnionAnswer | null | undefined, expected: string): string | null {
  if (!answer) return "No answer from the server.";
  if (answer.__typename === expected) return null;
  const problems = answer.problems?.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)) ?? [];
  const base = answer.message ?? `Unexpected answer (${answer.__typename ?? "unknown"}).`;
  return problems.length ? `${base} ${problems.join("; ")}` : base;
}

/** Narrow a union answer to its expected member (or null). */
export function pick<T extends { __typename?: string }, N extends string>(
  answer: T | null | undefined,
  expected: N,
): Extract<T, { __typename?: N }> | null {
  return answer && answer.__typename === expected ? (answer as Extract<T, { __typename?: N }>) : null;
}

/** A channel mutation's failure (null when it answered with the channel); a refusal by Meta
 * carries Meta's own explanation, which says what to fix. */
export function channelFailure(answer: (UnionAnswer & { graphMessage?: string | null }) | null | undefined): string | null {
  const failure = failureOf(answer, "Channel");
  return failure && answer?.graphMessage ? `${failure}: ${answer.graphMessage}` : failure;
}
