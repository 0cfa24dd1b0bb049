import { describe, expect, it } from "vitest";
import { insertQuickReply, matchQuickReplies, slashToken } from "./quickReplies";

const REPLIES = [
  { id: "1", title: "Opening hours", text: "We are open 9 am to 7 pm." },
  { id: "2", title: "Address", text: "12 Lake Road, near the hours clock tower." },
  { id: "3", title: "Delivery hours", text: "We deliver until 9 pm." },
];

describe("slashToken", () => {
  it("finds a slash at the start or after a space, up to the caret", () => {
    expect(slashToken("/ope", 4)).toEqual({ start: 0, query: "ope" });
    expect(slashToken("Hello /addr", 11)).toEqual({ start: 6, query: "addr" });
    expect(slashToken("/", 1)).toEqual({ start: 0, query: "" });
  });

  it("ignores a slash inside a word or a link, and one before a line break", () => {
    expect(slashToken("and/or", 6)).toBeNull();
    expect(slashToken("see https://x.example/a", 23)).toBeNull();
    expect(slashToken("/ope\nmore", 9)).toBeNull();
    expect(slashToken("no slash", 8)).toBeNull();
  });
});

describe("matchQuickReplies", () => {
  it("ranks title prefixes, then titles, then texts", () => {
    expect(matchQuickReplies(REPLIES, "hours").map((r) => r.id)).toEqual(["3", "1", "2"]);
    expect(matchQuickReplies(REPLIES, "OPEN").map((r) => r.id)).toEqual(["1"]);
    expect(matchQuickReplies(REPLIES, "").map((r) => r.title)).toEqual(["Address", "Delivery hours", "Opening hours"]);
    expect(matchQuickReplies(REPLIES, "refund")).toEqual([]);
  });
});

describe("insertQuickReply", () => {
  it("replaces the slash and its query, keeps the rest, and puts the caret after the reply", () => {
    const value = "Hi! /ope thanks";
    const token = slashToken(value, 8)!;
    expect(insertQuickReply(value, 8, token, "We are open.")).toEqual({ value: "Hi! We are open. thanks", caret: 16 });
  });
});
