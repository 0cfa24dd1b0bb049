import { describe, expect, it } from "vitest";
import { bytes, knowledgeFileProblem } from "./bytes";

describe("bytes", () => {
  it("formats sizes", () => {
    expect(bytes(512)).toBe("512 B");
    expect(bytes(1536)).toBe("1.5 KB");
    expect(bytes(3 * 1024 * 1024)).toBe("3.0 MB");
  });
  it("checks knowledge files", () => {
    expect(knowledgeFileProblem("menu.PDF", 10)).toBeNull();
    expect(knowledgeFileProblem("notes.md", 10)).toBeNull();
    expect(knowledgeFileProblem("photo.jpg", 10)).toMatch(/PDF/);
    expect(knowledgeFileProblem("a.txt", 0)).toMatch(/empty/);
    expect(knowledgeFileProblem("a.txt", 21 * 1024 * 1024)).toMatch(/at most/);
  });
});
