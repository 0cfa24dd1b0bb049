// WhatsApp message templates: Meta's limits checked as the operator types (the API checks the
// same again), the preview's text with examples filled in, and the conversions between the
// builder's draft, the API's TemplateContentInput and Meta's component list.

export const LIMITS = {
  name: 512,
  header: 60,
  body: 1024,
  footer: 60,
  buttons: 10,
  urlButtons: 2,
  phoneButtons: 1,
  buttonText: 25,
} as const;

export const NAME_PATTERN = /^[a-z0-9_]{1,512}$/;
export const LANGUAGE_PATTERN = /^[a-z]{2,3}(_[A-Z]{2})?$/;
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

export type ParameterFormat = "POSITIONAL" | "NAMED";
export type ButtonType = "QUICK_REPLY" | "URL" | "PHONE_NUMBER";

export interface DraftButton {
  type: ButtonType;
  text: string;
  url: string;
  phoneNumber: string;
  example: string;
}

export interface TemplateDraft {
  name: string;
  language: string;
  category: "MARKETING" | "UTILITY" | "AUTHENTICATION";
  parameterFormat: ParameterFormat;
  purpose: string;
  headerText: string;
  headerExample: string;
  body: string;
  /** Example per placeholder name ("1", "2", ... or the named placeholder). */
  bodyExamples: Record<string, string>;
  footer: string;
  buttons: DraftButton[];
}

export const EMPTY_DRAFT: TemplateDraft = {
  name: "",
  language: "en",
  category: "UTILITY",
  parameterFormat: "POSITIONAL",
  purpose: "",
  headerText: "",
  headerExample: "",
  body: "",
  bodyExamples: {},
  footer: "",
  buttons: [],
};

export interface Problem {
  field: string;
  message: string;
}

/** Placeholder names in order of first appearance, each once. */
export function placeholders(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) if (!names.includes(m[1]!)) names.push(m[1]!);
  return names;
}

function checkNames(names: string[], format: ParameterFormat, field: string, problems: Problem[]) {
  if (format === "POSITIONAL") {
    const expected = names.map((_, i) => String(i + 1));
    if (names.some((n, i) => n !== expected[i])) {
      problems.push({ field, message: `Variables must be numbered in order: ${expected.map((n) => `{{${n}}}`).join(", ") || "{{1}}"}.` });
    }
  } else if (names.some((n) => !/^[a-z][a-z0-9_]*$/.test(n))) {
    problems.push({ field, message: "Named variables are lowercase words, like {{first_name}}." });
  }
}

/** Every rule the draft breaks (empty when it can be saved). */
export function validate(d: TemplateDraft): Problem[] {
  const problems: Problem[] = [];
  if (!d.name) problems.push({ field: "name", message: "A name is required." });
  else if (!NAME_PATTERN.test(d.name)) problems.push({ field: "name", message: "Lowercase letters, digits and underscores only." });
  if (!LANGUAGE_PATTERN.test(d.language)) problems.push({ field: "language", message: "A language code like en or pt_BR." });

  if (d.headerText) {
    if (d.headerText.length > LIMITS.header) problems.push({ field: "header", message: `The header is ${d.headerText.length} characters; at most ${LIMITS.header}.` });
    const names = placeholders(d.headerText);
    if (names.length > 1) problems.push({ field: "header", message: "The header has at most one variable." });
    else {
      checkNames(names, d.parameterFormat, "header", problems);
      if (names.length === 1 && !d.headerExample.trim()) problems.push({ field: "header", message: "Give an example for the header variable." });
    }
  }

  const body = d.body.trim();
  if (!body) problems.push({ field: "body", message: "The body is required." });
  if (d.body.length > LIMITS.body) problems.push({ field: "body", message: `The body is ${d.body.length} characters; at most ${LIMITS.body}.` });
  if (body && (/^\{\{\s*[A-Za-z0-9_]+\s*\}\}/.test(body) || body.endsWith("}}"))) {
    problems.push({ field: "body", message: "The body cannot start or end with a variable." });
  }
  const names = placeholders(d.body);
  checkNames(names, d.parameterFormat, "body", problems);
  const missing = names.filter((n) => !(d.bodyExamples[n] ?? "").trim());
  if (missing.length) problems.push({ field: "body", message: `Give an example for ${missing.map((n) => `{{${n}}}`).join(", ")}.` });

  if (d.footer) {
    if (d.footer.length > LIMITS.footer) problems.push({ field: "footer", message: `The footer is ${d.footer.length} characters; at most ${LIMITS.footer}.` });
    if (placeholders(d.footer).length) problems.push({ field: "footer", message: "The footer cannot have variables." });
  }

  if (d.buttons.length > LIMITS.buttons) problems.push({ field: "buttons", message: `At most ${LIMITS.buttons} buttons.` });
  if (d.buttons.filter((b) => b.type === "URL").length > LIMITS.urlButtons) problems.push({ field: "buttons", message: `At most ${LIMITS.urlButtons} URL buttons.` });
  if (d.buttons.filter((b) => b.type === "PHONE_NUMBER").length > LIMITS.phoneButtons) problems.push({ field: "buttons", message: `At most ${LIMITS.phoneButtons} phone-number button.` });
  d.buttons.forEach((b, i) => {
    const field = `button${i + 1}`;
    if (!b.text.trim()) problems.push({ field, message: `Button ${i + 1} needs text.` });
    if (b.text.length > LIMITS.buttonText) problems.push({ field, message: `Button ${i + 1} text is ${b.text.length} characters; at most ${LIMITS.buttonText}.` });
    if (b.type === "URL") {
      if (!/^https:\/\//.test(b.url)) problems.push({ field, message: `Button ${i + 1} needs an https:// URL.` });
      else if (placeholders(b.url).length && !b.example.trim()) problems.push({ field, message: `Button ${i + 1}'s URL has a variable: give an example.` });
    }
    if (b.type === "PHONE_NUMBER" && !/^\+?[0-9]{6,20}$/.test(b.phoneNumber)) problems.push({ field, message: `Button ${i + 1} needs a phone number (digits, optional +).` });
  });
  return problems;
}

/** Text with each variable replaced by its example (or left as {{n}} when none is given). */
export function fill(text: string, examples: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => (examples[name]?.trim() ? examples[name]! : whole));
}

export interface ContentInput {
  header: { format: "TEXT"; text: string; examples: string[] } | null;
  body: string;
  bodyExamples?: string[];
  bodyNamedExamples?: Array<{ name: string; value: string }>;
  footer: string | null;
  buttons: Array<{ type: ButtonType; text: string; url: string | null; phoneNumber: string | null; example: string | null }>;
}

/** The API's TemplateContentInput for a draft. */
export function toContentInput(d: TemplateDraft): ContentInput {
  const names = placeholders(d.body);
  const headerNames = placeholders(d.headerText);
  return {
    header: d.headerText ? { format: "TEXT" as const, text: d.headerText, examples: headerNames.length ? [d.headerExample] : [] } : null,
    body: d.body,
    ...(d.parameterFormat === "NAMED"
      ? { bodyNamedExamples: names.map((n) => ({ name: n, value: d.bodyExamples[n] ?? "" })) }
      : { bodyExamples: names.map((n) => d.bodyExamples[n] ?? "") }),
    footer: d.footer || null,
    buttons: d.buttons.map((b) => ({
      type: b.type,
      text: b.text,
      url: b.type === "URL" ? b.url : null,
      phoneNumber: b.type === "PHONE_NUMBER" ? b.phoneNumber : null,
      example: b.type === "URL" && b.example ? b.example : null,
    })),
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** A draft from Meta's component list (to edit a stored template). */
export function fromComponents(base: Pick<TemplateDraft, "name" | "language" | "category" | "parameterFormat" | "purpose">, components: any[]): TemplateDraft {
  const d: TemplateDraft = { ...EMPTY_DRAFT, ...base, bodyExamples: {}, buttons: [] };
  for (const c of components ?? []) {
    const type = String(c?.type ?? "").toUpperCase();
    if (type === "HEADER" && String(c.format ?? "TEXT").toUpperCase() === "TEXT") {
      d.headerText = c.text ?? "";
      d.headerExample = c.example?.header_text?.[0] ?? c.example?.header_text_named_params?.[0]?.example ?? "";
    } else if (type === "BODY") {
      d.body = c.text ?? "";
      const names = placeholders(d.body);
      const positional: string[] = c.example?.body_text?.[0] ?? [];
      names.forEach((n, i) => { if (positional[i] !== undefined) d.bodyExamples[n] = positional[i]!; });
      for (const p of c.example?.body_text_named_params ?? []) d.bodyExamples[p.param_name] = p.example;
    } else if (type === "FOOTER") {
      d.footer = c.text ?? "";
    } else if (type === "BUTTONS") {
      d.buttons = (c.buttons ?? []).map((b: any) => ({
        type: String(b.type).toUpperCase() as ButtonType,
        text: b.text ?? "",
        url: b.url ?? "",
        phoneNumber: b.phone_number ?? "",
        example: Array.isArray(b.example) ? b.example[0] ?? "" : b.example ?? "",
      }));
    }
  }
  return d;
}
