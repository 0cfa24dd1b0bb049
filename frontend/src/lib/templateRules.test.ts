import { describe, expect, it } from "vitest";
import { EMPTY_DRAFT, fill, fromComponents, placeholders, toContentInput, validate, type TemplateDraft } from "./templateRules";

const ok: TemplateDraft = { ...EMPTY_DRAFT, name: "visit_reminder", body: "Hi {{1}}, your visit is on {{2}}.", bodyExamples: { "1": "Asha", "2": "Monday" } };
const fields = (d: TemplateDraft) => validate(d).map((p) => p.field);

describe("template rules", () => {
  it("accepts a valid draft", () => {
    expect(validate(ok)).toEqual([]);
  });
  it("checks the name pattern", () => {
    expect(fields({ ...ok, name: "Visit Reminder" })).toContain("name");
    expect(fields({ ...ok, name: "" })).toContain("name");
    expect(fields({ ...ok, name: "a".repeat(513) })).toContain("name");
    expect(fields({ ...ok, name: "a_1" })).toEqual([]);
  });
  it("limits body 1024, header 60, footer 60", () => {
    expect(fields({ ...ok, body: `Hi ${"x".repeat(1024)}.` })).toContain("body");
    expect(fields({ ...ok, headerText: "h".repeat(61) })).toContain("header");
    expect(fields({ ...ok, headerText: "h".repeat(60) })).toEqual([]);
    expect(fields({ ...ok, footer: "f".repeat(61) })).toContain("footer");
    expect(fields({ ...ok, footer: "Reply {{1}}" })).toContain("footer");
  });
  it("wants variables numbered in order and an example for each", () => {
    expect(fields({ ...ok, body: "Hi {{2}} and {{1}}.", bodyExamples: { "1": "a", "2": "b" } })).toContain("body");
    expect(fields({ ...ok, body: "Hi {{1}} and {{3}}.", bodyExamples: { "1": "a", "3": "b" } })).toContain("body");
    expect(validate({ ...ok, bodyExamples: { "1": "Asha" } }).map((p) => p.message).join()).toMatch(/\{\{2\}\}/);
    expect(fields({ ...ok, body: "Hi {{1}}, again {{1}}.", bodyExamples: { "1": "a" } })).toEqual([]);
  });
  it("refuses a body starting or ending with a variable", () => {
    expect(fields({ ...ok, body: "{{1}} is here.", bodyExamples: { "1": "a" } })).toContain("body");
    expect(fields({ ...ok, body: "Hello {{1}}", bodyExamples: { "1": "a" } })).toContain("body");
  });
  it("checks named variables", () => {
    const named = { ...ok, parameterFormat: "NAMED" as const, body: "Hi {{first_name}}.", bodyExamples: { first_name: "Asha" } };
    expect(validate(named)).toEqual([]);
    expect(fields({ ...named, body: "Hi {{1}}.", bodyExamples: { "1": "a" } })).toContain("body");
  });
  it("header: one variable with an example", () => {
    expect(fields({ ...ok, headerText: "Hello {{1}}" })).toContain("header");
    expect(fields({ ...ok, headerText: "Hello {{1}}", headerExample: "Asha" })).toEqual([]);
    expect(fields({ ...ok, headerText: "{{1}} {{2}}", headerExample: "x" })).toContain("header");
  });
  it("limits buttons", () => {
    const qr = { type: "QUICK_REPLY" as const, text: "Yes", url: "", phoneNumber: "", example: "" };
    expect(fields({ ...ok, buttons: Array(10).fill(qr) })).toEqual([]);
    expect(fields({ ...ok, buttons: Array(11).fill(qr) })).toContain("buttons");
    const url = { ...qr, type: "URL" as const, url: "https://example.com" };
    expect(fields({ ...ok, buttons: [url, url, url] })).toContain("buttons");
    expect(fields({ ...ok, buttons: [{ ...url, url: "http://x" }] })).toContain("button1");
    expect(fields({ ...ok, buttons: [{ ...url, url: "https://x/{{1}}" }] })).toContain("button1");
    expect(fields({ ...ok, buttons: [{ ...qr, text: "t".repeat(26) }] })).toContain("button1");
    const phone = { ...qr, type: "PHONE_NUMBER" as const, phoneNumber: "+15550001111" };
    expect(fields({ ...ok, buttons: [phone] })).toEqual([]);
    expect(fields({ ...ok, buttons: [phone, phone] })).toContain("buttons");
  });
  it("fills the preview with examples", () => {
    expect(fill("Hi {{1}}, {{2}}", { "1": "Asha" })).toBe("Hi Asha, {{2}}");
    expect(placeholders("{{1}} {{ 2 }} {{1}}")).toEqual(["1", "2"]);
  });
  it("round-trips through Meta's components", () => {
    const d: TemplateDraft = { ...ok, headerText: "Hello {{1}}", headerExample: "Asha", footer: "Chai & Co.", buttons: [{ type: "URL", text: "Book", url: "https://x.test/{{1}}", phoneNumber: "", example: "https://x.test/a" }] };
    const input = toContentInput(d);
    expect(input.bodyExamples).toEqual(["Asha", "Monday"]);
    const components = [
      { type: "HEADER", format: "TEXT", text: input.header!.text, example: { header_text: input.header!.examples } },
      { type: "BODY", text: input.body, example: { body_text: [input.bodyExamples] } },
      { type: "FOOTER", text: input.footer },
      { type: "BUTTONS", buttons: [{ type: "URL", text: "Book", url: "https://x.test/{{1}}", example: ["https://x.test/a"] }] },
    ];
    const back = fromComponents({ name: d.name, language: d.language, category: d.category, parameterFormat: d.parameterFormat, purpose: "" }, components);
    expect(back).toEqual({ ...d, purpose: "" });
  });
});
