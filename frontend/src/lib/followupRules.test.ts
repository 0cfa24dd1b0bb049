import { describe, expect, it } from "vitest";
import {
  delayMinutes, emptyStep, fieldKey, formatDelay, moveStep, sequenceProblems, serverProblems, splitDelay, toInput,
  type SequenceDraft,
} from "./followupRules";

const base: SequenceDraft = {
  name: "Gentle nudges",
  trigger: "NO_REPLY",
  isActive: true,
  steps: [{ delay: "1", unit: "hours", messageHint: "Ask if they had a look", templateId: "" }],
};

describe("follow-up rules", () => {
  it("accepts a plain sequence", () => expect(sequenceProblems(base)).toEqual({}));
  it("wants a name", () => expect(sequenceProblems({ ...base, name: "  " })).toEqual({ name: "A name is required." }));
  it("wants 1 to 10 steps", () => {
    expect(sequenceProblems({ ...base, steps: [] }).steps).toMatch(/at least one/);
    expect(sequenceProblems({ ...base, steps: Array.from({ length: 10 }, emptyStep) })).toEqual({});
    expect(sequenceProblems({ ...base, steps: Array.from({ length: 11 }, emptyStep) }).steps).toMatch(/at most 10/);
  });
  it("wants a delay of 1 minute to 30 days", () => {
    const step = (delay: string, unit: "minutes" | "hours" | "days") => sequenceProblems({ ...base, steps: [{ ...emptyStep(), delay, unit }] });
    expect(step("0", "minutes")["steps.0.delay_minutes"]).toBe("The delay is at least 1 minute.");
    expect(step("1", "minutes")).toEqual({});
    expect(step("30", "days")).toEqual({});
    expect(step("43200", "minutes")).toEqual({});
    expect(step("43201", "minutes")["steps.0.delay_minutes"]).toBe("The delay is at most 30 days.");
    expect(step("31", "days")["steps.0.delay_minutes"]).toBe("The delay is at most 30 days.");
    expect(step("721", "hours")["steps.0.delay_minutes"]).toBe("The delay is at most 30 days.");
    expect(step("1.5", "hours")["steps.0.delay_minutes"]).toBe("The delay is a whole number.");
    expect(step("", "hours")["steps.0.delay_minutes"]).toBe("The delay is a whole number.");
  });
  it("keeps hints to 1000 characters", () => {
    const steps = [emptyStep(), { ...emptyStep(), messageHint: "x".repeat(1001) }];
    expect(sequenceProblems({ ...base, steps })).toEqual({ "steps.1.message_hint": "The hint is at most 1000 characters." });
    expect(sequenceProblems({ ...base, steps: [{ ...emptyStep(), messageHint: "x".repeat(1000) }] })).toEqual({});
  });
  it("converts delays both ways", () => {
    expect(delayMinutes({ delay: "2", unit: "days" })).toBe(2880);
    expect(delayMinutes({ delay: "3", unit: "hours" })).toBe(180);
    expect(splitDelay(2880)).toEqual({ delay: "2", unit: "days" });
    expect(splitDelay(180)).toEqual({ delay: "3", unit: "hours" });
    expect(splitDelay(90)).toEqual({ delay: "90", unit: "minutes" });
    expect(formatDelay(1440 + 120 + 5)).toBe("1 day 2 hours 5 minutes");
    expect(formatDelay(60)).toBe("1 hour");
  });
  it("keys server problems like the editor's", () => {
    expect(fieldKey("steps[1].template_id")).toBe("steps.1.template_id");
    expect(fieldKey("steps.0.delay_minutes")).toBe("steps.0.delay_minutes");
    expect(fieldKey(null)).toBe("");
    expect(serverProblems([{ field: "steps.0.delay_minutes", message: "too small" }, { field: null, message: "no" }]))
      .toEqual({ "steps.0.delay_minutes": "too small", "": "no" });
  });
  it("moves steps and builds the input", () => {
    expect(moveStep(["a", "b", "c"], 2, -1)).toEqual(["a", "c", "b"]);
    expect(moveStep(["a", "b", "c"], 0, -1)).toEqual(["a", "b", "c"]);
    expect(toInput({ ...base, name: " N ", steps: [{ delay: "2", unit: "days", messageHint: " ", templateId: "" }] })).toEqual({
      name: "N", trigger: "NO_REPLY", isActive: true, steps: [{ delayMinutes: 2880, messageHint: null, templateId: null }],
    });
  });
});
