import { describe, expect, it } from "vitest";
import { filterFor, startableSequences } from "./filters";
import { sendFailure } from "./sendResult";

describe("filterFor", () => {
  it("maps each quick filter to the GraphQL filter", () => {
    expect(filterFor("all", "", "u1")).toEqual({});
    expect(filterFor("attention", "", "u1")).toEqual({ needsAttention: true });
    expect(filterFor("human", "", "u1")).toEqual({ mode: "HUMAN" });
    expect(filterFor("bot", "", "u1")).toEqual({ mode: "BOT" });
    expect(filterFor("closed", "", "u1")).toEqual({ mode: "CLOSED" });
    expect(filterFor("mine", "", "u1")).toEqual({ assignedTo: "u1" });
  });
  it("adds a trimmed search and ignores a blank one", () => {
    expect(filterFor("human", "  asha ", null)).toEqual({ mode: "HUMAN", search: "asha" });
    expect(filterFor("all", "   ", null)).toEqual({});
  });
});

describe("sendFailure", () => {
  it("is silent when the message was queued", () => {
    expect(sendFailure({ __typename: "MessageQueued" } as never)).toBeNull();
  });
  it("explains each refusal", () => {
    expect(sendFailure({ __typename: "WindowClosed", message: "use a template" })).toBe("The 24-hour window is closed: use a template");
    expect(sendFailure({ __typename: "OptedOut", message: "the lead opted out" })).toBe("Not sent: the lead opted out");
    expect(sendFailure({ __typename: "ValidationProblem", message: "text too long", field: "text" })).toBe("text too long");
    expect(sendFailure({ __typename: "ForbiddenError", message: "agents only", code: "forbidden" })).toBe("agents only");
  });
});

describe("startableSequences", () => {
  it("offers active sequences only, manual ones first, then by name", () => {
    const all = [
      { name: "Nudges", trigger: "NO_REPLY", isActive: true },
      { name: "Paused manual", trigger: "MANUAL", isActive: false },
      { name: "Showroom visit", trigger: "MANUAL", isActive: true },
      { name: "After an offer", trigger: "CTA_PENDING", isActive: true },
      { name: "Catalogue sent", trigger: "MANUAL", isActive: true },
    ];
    expect(startableSequences(all).map((s) => s.name)).toEqual([
      "Catalogue sent", "Showroom visit", "After an offer", "Nudges",
    ]);
    expect(all).toHaveLength(5);
  });
});
