import { describe, expect, it } from "vitest";
import { channelFailure, failureOf, pick } from "./results";

describe("failureOf", () => {
  it("is null for the expected type", () => {
    expect(failureOf({ __typename: "Lead" }, "Lead")).toBeNull();
  });
  it("gives the error's message and its field problems", () => {
    expect(failureOf({ __typename: "LimitError", message: "Too long", problems: [{ field: "body", message: "over 1024" }] }, "Template")).toBe("Too long body: over 1024");
  });
  it("copes with a missing answer", () => {
    expect(failureOf(null, "Lead")).toMatch(/No answer/);
  });
  it("picks the expected member only", () => {
    expect(pick({ __typename: "Lead", id: "1" } as { __typename?: string; id?: string }, "Lead")).toEqual({ __typename: "Lead", id: "1" });
    expect(pick({ __typename: "NotFoundError" } as { __typename?: string }, "Lead")).toBeNull();
  });
});

describe("channelFailure", () => {
  it("is null for the channel", () => {
    expect(channelFailure({ __typename: "Channel" })).toBeNull();
  });
  it("adds Meta's explanation to a refused credential", () => {
    expect(channelFailure({ __typename: "CredentialsError", message: "WhatsApp rejected these credentials", graphMessage: "Invalid OAuth access token" }))
      .toBe("WhatsApp rejected these credentials: Invalid OAuth access token");
  });
  it("gives other errors as they are", () => {
    expect(channelFailure({ __typename: "ConflictError", message: "this phone number is connected to another organisation" }))
      .toBe("this phone number is connected to another organisation");
  });
});
