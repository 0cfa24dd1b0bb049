import { describe, expect, it } from "vitest";
import { composerMode, parametersComplete, renderTemplate, templatePlaceholders, windowState } from "./window";

const now = Date.parse("2026-01-10T12:00:00Z");

describe("windowState", () => {
  it("is open with the time left when the server says open and expiry is ahead", () => {
    const w = windowState({ windowOpen: true, windowExpiresAt: "2026-01-10T20:00:00Z" }, now);
    expect(w.open).toBe(true);
    expect(w.remainingMs).toBe(8 * 3_600_000);
    expect(w.closingSoon).toBe(false);
  });
  it("warns in the last hour", () => {
    expect(windowState({ windowOpen: true, windowExpiresAt: "2026-01-10T12:30:00Z" }, now).closingSoon).toBe(true);
  });
  it("closes when the expiry passes while the page is open", () => {
    const w = windowState({ windowOpen: true, windowExpiresAt: "2026-01-10T11:59:59Z" }, now);
    expect(w).toEqual({ open: false, remainingMs: 0, closingSoon: false });
  });
  it("stays closed when the server says closed", () => {
    expect(windowState({ windowOpen: false, windowExpiresAt: "2026-01-11T00:00:00Z" }, now).open).toBe(false);
  });
  it("trusts the server when no expiry is known", () => {
    expect(windowState({ windowOpen: true, windowExpiresAt: null }, now).open).toBe(true);
  });
});

describe("composerMode", () => {
  const open = windowState({ windowOpen: true, windowExpiresAt: null }, now);
  const closed = windowState({ windowOpen: false, windowExpiresAt: null }, now);
  it("offers free text inside the window", () => {
    expect(composerMode({ canEdit: true, conversationMode: "HUMAN", optedOut: false, window: open })).toBe("text");
  });
  it("offers templates outside it", () => {
    expect(composerMode({ canEdit: true, conversationMode: "BOT", optedOut: false, window: closed })).toBe("template");
  });
  it("is read-only for viewers, opted-out leads and closed threads", () => {
    expect(composerMode({ canEdit: false, conversationMode: "HUMAN", optedOut: false, window: open })).toBe("readonly");
    expect(composerMode({ canEdit: true, conversationMode: "HUMAN", optedOut: true, window: open })).toBe("readonly");
    expect(composerMode({ canEdit: true, conversationMode: "CLOSED", optedOut: false, window: open })).toBe("readonly");
  });
});

describe("templates", () => {
  const components = [
    { type: "HEADER", format: "TEXT", text: "Hello {{1}}" },
    { type: "BODY", text: "Your order {{2}} ships on {{3}}. Thanks {{1}}!" },
    { type: "FOOTER", text: "Reply STOP to opt out" },
  ];
  it("lists placeholders in order, once each", () => {
    expect(templatePlaceholders(components)).toEqual(["1", "2", "3"]);
  });
  it("renders the preview with the parameters, leaving missing ones visible", () => {
    expect(renderTemplate(components, ["Asha", "#42"])).toBe(
      "Hello Asha\n\nYour order #42 ships on {{3}}. Thanks Asha!\n\nReply STOP to opt out",
    );
  });
  it("requires every parameter", () => {
    expect(parametersComplete(components, ["Asha", "#42", " "])).toBe(false);
    expect(parametersComplete(components, ["Asha", "#42", "Monday"])).toBe(true);
    expect(parametersComplete([{ type: "BODY", text: "No params" }], [])).toBe(true);
  });
});
