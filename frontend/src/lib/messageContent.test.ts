import { describe, expect, it } from "vitest";
import { captionToShow, downloadName, interactiveLines, presentMedia, sizeLabel, templateLine } from "./messageContent";

describe("message content", () => {
  it("presents media by type, then by mime type", () => {
    expect(presentMedia("IMAGE", null)).toBe("image");
    expect(presentMedia("STICKER", "image/webp")).toBe("image");
    expect(presentMedia("VIDEO", "video/mp4")).toBe("video");
    expect(presentMedia("AUDIO", "audio/ogg")).toBe("audio");
    expect(presentMedia("DOCUMENT", "application/pdf")).toBe("file");
    expect(presentMedia("DOCUMENT", "image/png")).toBe("image");
  });
  it("names downloads and sizes", () => {
    expect(downloadName("abcdef1234", { filename: "brochure.pdf", mimeType: "application/pdf" })).toBe("brochure.pdf");
    expect(downloadName("abcdef1234", { filename: null, mimeType: "image/jpeg" })).toBe("media-abcdef12.jpg");
    expect(downloadName("abcdef1234", { filename: null, mimeType: null })).toBe("media-abcdef12");
    expect(sizeLabel(null)).toBeNull();
    expect(sizeLabel(812)).toBe("812 B");
    expect(sizeLabel(14 * 1024)).toBe("14 KB");
    expect(sizeLabel(3.2 * 1024 * 1024)).toBe("3.2 MB");
  });
  it("reads interactive messages and templates", () => {
    expect(interactiveLines({ kind: "button", body: "Which?", options: ["Small", "Large"], url: null, urlLabel: null })).toEqual({ heading: "Buttons", options: ["Small", "Large"], link: null });
    expect(interactiveLines({ kind: "cta_url", body: null, options: [], url: "https://x.example", urlLabel: null }).link).toEqual({ url: "https://x.example", label: "https://x.example" });
    expect(interactiveLines({ kind: "button_reply", body: null, options: ["Large"], url: null, urlLabel: null }).heading).toBe("Tapped");
    expect(templateLine({ name: "order_ready", language: "en", parameters: ["Asha", "#1042"] })).toEqual({ title: "order_ready (en)", parameters: ["{{1}} Asha", "{{2}} #1042"] });
  });
  it("does not repeat a caption that is the text", () => {
    expect(captionToShow("Our shop", "Our shop")).toBeNull();
    expect(captionToShow(null, "Our shop")).toBe("Our shop");
    expect(captionToShow("x", null)).toBeNull();
  });
});
