import { describe, expect, it } from "vitest";
import { ctaProblems } from "./ctaRules";

const base = { type: "BOOK_CALL", name: "Book a call", description: "", url: "", buttonText: "" };

describe("CTA rules", () => {
  it("accepts a plain CTA", () => expect(ctaProblems(base)).toEqual([]));
  it("wants a name", () => expect(ctaProblems({ ...base, name: " " })).toHaveLength(1));
  it("wants https and a button text with a URL", () => {
    expect(ctaProblems({ ...base, url: "http://x.test", buttonText: "Go" })).toEqual(["The URL must start with https://."]);
    expect(ctaProblems({ ...base, url: "https://x.test" })).toEqual(["A URL needs a button text."]);
    expect(ctaProblems({ ...base, url: "https://x.test", buttonText: "Go" })).toEqual([]);
  });
  it("wants a URL for send-link and a short button text", () => {
    expect(ctaProblems({ ...base, type: "SEND_LINK" })).toContain("A send-link CTA needs a URL.");
    expect(ctaProblems({ ...base, buttonText: "x".repeat(21) })).toHaveLength(1);
  });
});
